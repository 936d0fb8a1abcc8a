"""The MLflow UI command: loopback only, the product's own store, one worker."""

from __future__ import annotations

from ml.tracking import ui_command


def test_ui_binds_loopback_with_the_product_store(settings) -> None:
    cmd = ui_command(settings, port=5123)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "5123"
    assert cmd[cmd.index("--backend-store-uri") + 1] == settings.mlflow_uri
    assert settings.mlflow_uri.startswith("sqlite:///") and str(settings.home.resolve()) in settings.mlflow_uri
