"""MLflow wiring: one sqlite store and artifact folder under $MOODLAKE_HOME, one experiment per model.

Models are logged with the sklearn flavor and ``cloudpickle`` serialization (skops would need every
custom type declared trusted at load time), registered, and the new version gets the alias
``champion`` that downstream stages load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from moodlake.core.settings import Settings

EXPERIMENTS = {
    "modes": "moodlake-listening-modes",
    "preference": "moodlake-preference",
    "mood": "moodlake-mood",
}
CHAMPION = "champion"


def configure(settings: Settings) -> None:
    """Point the MLflow client at the product's store (tracking and registry)."""
    import mlflow

    settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
    mlflow.set_tracking_uri(settings.mlflow_uri)
    mlflow.set_registry_uri(settings.mlflow_uri)


def experiment(settings: Settings, key: str) -> str:
    """Experiment id for a model family; artifacts go to $MOODLAKE_HOME/mlflow/artifacts/<name>."""
    import mlflow

    name = EXPERIMENTS[key]
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (settings.mlflow_artifacts / name).resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


@contextmanager
def run(settings: Settings, key: str, run_name: str, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """An MLflow run in the model family's experiment."""
    import mlflow

    configure(settings)
    with mlflow.start_run(experiment_id=experiment(settings, key), run_name=run_name, tags=tags or {}) as active:
        yield active


def log_figures(figures: dict[str, Any]) -> None:
    """Save matplotlib figures as PNG artifacts under plots/ and close them."""
    import matplotlib.pyplot as plt
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        for name, fig in figures.items():
            path = Path(tmp) / f"{name}.png"
            fig.savefig(path, dpi=90, bbox_inches="tight")
            plt.close(fig)
            mlflow.log_artifact(str(path), artifact_path="plots")


def log_frame(frame: pd.DataFrame, name: str) -> None:
    """A small table (metrics per variant, silhouette curve) as a CSV artifact."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.csv"
        frame.to_csv(path, index=False)
        mlflow.log_artifact(str(path), artifact_path="tables")


def register(model: Any, registered_name: str, example: pd.DataFrame | None = None) -> str:
    """Log `model` in the active run, register it and point the ``champion`` alias at the new version."""
    import mlflow
    import sklearn
    from mlflow.models import infer_signature

    signature = None
    if example is not None:
        signature = infer_signature(example, model.predict(example))
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="cloudpickle",
        registered_model_name=registered_name,
        signature=signature,
        pip_requirements=[f"scikit-learn=={sklearn.__version__}", "cloudpickle", "pandas", "numpy"],
    )
    version = str(info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(registered_name, CHAMPION, version)
    return version


def load_champion_model(settings: Settings, registered_name: str) -> Any:
    """The sklearn object behind ``models:/<name>@champion``."""
    import mlflow.sklearn

    configure(settings)
    return mlflow.sklearn.load_model(f"models:/{registered_name}@{CHAMPION}")


def load_modes(settings: Settings, user_id: str) -> Any:
    """A listener's mode pipeline (scaler + K-means; names in ``.mode_names_``)."""
    from ml.modes import mode_model_name

    return load_champion_model(settings, mode_model_name(user_id))


def ui_command(settings: Settings, port: int = 5000) -> list[str]:
    """`mlflow ui` on loopback with the product's store; one worker is plenty on a laptop."""
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", settings.mlflow_uri,
        "--default-artifact-root", settings.mlflow_artifacts.resolve().as_uri(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
    ]


def serve_ui(settings: Settings, port: int = 5000) -> int:
    """Run the MLflow UI in the foreground until Ctrl-C or SIGTERM; returns its exit code.

    `mlflow ui` starts uvicorn as a grandchild, so the UI runs in its own process group and a
    stop signal is forwarded to the whole group: no server is left behind on the port.
    """
    settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(ui_command(settings, port), start_new_session=True)

    def stop(*_: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop()
        return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            stop()
