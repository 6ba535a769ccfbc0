from . import compat


def post_init_hook(env):
    """The PICO roles as one choice in Settings > Users, and the administrator a
    PICO Manager: what security/pico_security.xml cannot say in a way both
    series read (res.groups' category and members are named differently)."""
    manager = env.ref("pico_mes.group_pico_manager")
    compat.set_role_category(
        env,
        env.ref("pico_mes.group_pico_user") | manager,
        env.ref("pico_mes.module_category_pico"),
        "pico_mes.res_groups_privilege_pico",
    )
    compat.add_group_users(
        manager, env.ref("base.user_root") | env.ref("base.user_admin")
    )
