# Copyright 2026 pico_mes contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "PICO MES Connector",
    "summary": "Manufacturing orders drive PICO; PICO completions close them",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/pico-mes/pico_mes",
    "author": "pico_mes contributors",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["mrp"],
    "external_dependencies": {"python": ["requests", "graphql-core"]},
    "data": [
        "security/pico_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/mail_activity_type.xml",
        "views/pico_operation_views.xml",
        "views/pico_unit_views.xml",
        "views/pico_message_views.xml",
        "views/res_config_settings_views.xml",
        "views/product_template_views.xml",
        "views/mrp_bom_views.xml",
        "views/mrp_production_views.xml",
        "views/pico_menus.xml",
        "views/pico_bom_transfer_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["pico_mes/static/tests/tours/**/*"],
    },
    "installable": True,
    "application": False,
}
