"""The core's REST views, one module per kind of object (routes in integration_hub/api_urls.py;
the helpers every app's APIs share are in integration_hub/api/)."""
