import { registry } from "@web/core/registry";

// A manufacturing operator confirms an order built in PICO and sees it queued.
registry.category("web_tour.tours").add("pico_mes_confirm_order", {
    steps: () => [
        {
            content: "Confirm the draft order of a product PICO builds",
            trigger: ".o_form_view button[name=action_confirm]",
            run: "click",
        },
        {
            content: "PICO status: queued for PICO, without waiting for PICO",
            trigger: ".o_field_widget[name=pico_state]:contains('Queued')",
        },
        {
            content: "The PICO tab lists the units",
            trigger: "a.nav-link:contains('PICO')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=pico_unit_ids] .o_data_row:nth-child(2)",
        },
    ],
});

// A PICO manager sees why an order failed in PICO and retries it.
registry.category("web_tour.tours").add("pico_mes_retry_failed_order", {
    steps: () => [
        {
            content: "The failure is shown on the order, with PICO's reason",
            trigger: ".alert-danger:contains('operation store unavailable')",
        },
        {
            content: "Retry",
            trigger: ".alert-danger button[name=action_pico_retry]",
            run: "click",
        },
        {
            content: "Queued again; the banner is gone",
            trigger: ".o_field_widget[name=pico_state]:contains('Queued')",
        },
        {
            trigger: "body:not(:has(.alert-danger:contains('operation store unavailable')))",
        },
    ],
});

// An administrator tests the connection from the settings.
registry.category("web_tour.tours").add("pico_mes_test_connection", {
    steps: () => [
        {
            content: "Open the PICO block of the Manufacturing settings",
            trigger: "button[name=action_pico_test_connection]",
            run: "click",
        },
        {
            content: "PICO answered and accepts every document the connector sends",
            trigger: ".o_notification:contains('Connected to PICO')",
        },
    ],
});
