"""An energy follow-up app on the person's own load curves (a Solid app built only on
``client`` and ``vocab``): ``python -m apps.energy --port 8601``."""
