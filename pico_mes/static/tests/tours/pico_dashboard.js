import { registry } from "@web/core/registry";

const picture = (code) => `.o_pico_picture[data-pico-picture=${code}]`;

/** The figure of the card holding ``element``. */
function cardCount(element) {
    const card = element.closest(".o_kanban_record");
    return parseInt(card.querySelector(".o_pico_count").textContent.replace(/\D/g, ""), 10);
}

/** The sum of the bars Chart.js draws in ``canvas`` (not the line of their
 * totals over a stacked bar chart), once it has drawn them. */
async function chartTotal(canvas) {
    for (let attempt = 0; attempt < 50; attempt++) {
        const chart = window.Chart && window.Chart.getChart(canvas);
        if (chart && chart.data.datasets.length) {
            const bars = chart.data.datasets.filter((set) => set.type !== "line");
            return bars.flatMap((set) => set.data).reduce((a, b) => a + b, 0);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the chart was never drawn");
}

function barsEqualTheFigure(code) {
    return {
        content: `The ${code} picture draws as many units as its card counts`,
        trigger: `${picture(code)} canvas`,
        async run() {
            const drawn = await chartTotal(this.anchor);
            const figure = cardCount(this.anchor);
            if (drawn !== figure || !figure) {
                throw new Error(`${code}: the picture draws ${drawn}, the card says ${figure}`);
            }
        },
    };
}

// A planner opens the dashboard: figures, pictures, and the records behind them.
registry.category("web_tour.tours").add("pico_mes_dashboard_pictures", {
    steps: () => [
        barsEqualTheFigure("completions"),
        barsEqualTheFigure("in_progress"),
        {
            content: "PICO's median of the Test operation against the 20 minutes Odoo expects",
            trigger: `${picture("process_times")} .o_pivot tr:has(th:contains('Test')) td:contains('7.50')`,
        },
        {
            trigger: `${picture("process_times")} .o_pivot tr:has(th:contains('Test')) td:contains('20.00')`,
        },
        {
            content: "The card opens the units in progress",
            trigger: `.o_kanban_record:has(${picture("in_progress")}) .o_pico_card_title`,
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:nth-child(3)",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:nth-child(4)))",
        },
    ],
});
