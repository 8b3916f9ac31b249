"""A budget app on the person's own bank data (a Solid app built only on ``client`` and
``vocab``): ``python -m apps.budget --port 8600``."""
