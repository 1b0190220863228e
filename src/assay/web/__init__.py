"""Web dashboard and REST API (needs the ``web`` extra: pip install 'assay[web]')."""

from assay.web.app import create_app

__all__ = ["create_app"]
