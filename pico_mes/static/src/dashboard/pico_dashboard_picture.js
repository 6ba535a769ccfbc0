import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { View } from "@web/views/view";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * A dashboard card's picture: Odoo's own graph or pivot view of the card's
 * records, embedded as the Dashboards app embeds its actions. Clicking a bar or
 * a cell opens the records behind it; the card's title opens them all.
 */
export class PicoDashboardPicture extends Component {
    static template = "pico_mes.DashboardPicture";
    static components = { View };
    static props = { ...standardWidgetProps };

    setup() {
        const picture = this.props.record.data.picture;
        this.viewProps = picture && {
            resModel: picture.res_model,
            type: picture.view_type,
            views: [
                [picture.view_id, picture.view_type],
                [false, "search"],
            ],
            domain: picture.domain,
            context: picture.context,
            display: { controlPanel: false },
            useSampleModel: false,
        };
        this.wide = Boolean(picture && picture.wide);
    }
}

registry.category("view_widgets").add("pico_dashboard_picture", {
    component: PicoDashboardPicture,
});
