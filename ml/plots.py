"""The figures each MLflow run stores: silhouette curve, ROC / PR / calibration, confusion matrix, SHAP."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: runs inside Spark jobs and CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve


def silhouette_curve(curve: dict[int, float], chosen: int, user_id: str) -> Any:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ks = sorted(curve)
    ax.plot(ks, [curve[k] for k in ks], marker="o")
    ax.axvline(chosen, color="grey", linestyle="--", label=f"k = {chosen}")
    ax.set(xlabel="k", ylabel="silhouette", title=f"Listening modes: silhouette by k ({user_id})")
    ax.legend()
    return fig


def classifier_panels(y: np.ndarray, scores: dict[str, np.ndarray], title: str) -> Any:
    """ROC, precision-recall and calibration for several models on the same test rows."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for label, p in scores.items():
        fpr, tpr, _ = roc_curve(y, p)
        axes[0].plot(fpr, tpr, label=label)
        precision, recall, _ = precision_recall_curve(y, p)
        axes[1].plot(recall, precision, label=label)
        bins = pd.qcut(p, 10, duplicates="drop")
        grouped = pd.DataFrame({"p": p, "y": y}).groupby(bins, observed=True).mean()
        axes[2].plot(grouped["p"], grouped["y"], marker="o", label=label)
    axes[0].plot([0, 1], [0, 1], color="grey", linestyle=":")
    axes[2].plot([0, 1], [0, 1], color="grey", linestyle=":")
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    axes[1].set(xlabel="recall", ylabel="precision", title="precision-recall")
    axes[2].set(xlabel="predicted probability", ylabel="observed share", title="calibration")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def confusion(matrix: np.ndarray, labels: list[str], title: str) -> Any:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return fig


def shap_summary(values: np.ndarray, x: pd.DataFrame, title: str) -> Any:
    """SHAP beeswarm (TreeExplainer values) on held-out rows."""
    import shap

    shap.summary_plot(values, x, show=False, plot_size=(7, 4.5))
    fig = plt.gcf()
    fig.suptitle(title)
    return fig
