"""The ML stage: read Gold, train and log every model to MLflow, write ``gold.ml_*``, report.

``moodlake train [--user ID]`` calls :func:`train`; ``moodlake run`` calls :func:`train_stage`,
which also fills ``summary["metrics"]`` and the predictive / cognitive insights.

Order, per listener: listening modes (K-means, k by silhouette), preference model (time split, plain
and genre/popularity-matched negatives, history features as of each row's moment, feature set chosen
by rolling-origin validation before the cutoff, booster vs logistic and single-signal baselines),
SHAP on the held-out rows; once for the catalog: the mood model. Then the catalog is scored and
explained in Spark, each listener's history features as of their last play.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml import plots, tracking
from ml.explain import TOP_FEATURES, global_shares, shap_values
from ml.features import MODE_FEATURES, MOOD_FEATURES, model_matrix
from ml.frames import CANDIDATE_COLUMNS, TRACK_COLUMNS, read_history, read_plays, read_tracks
from ml.history_features import CatalogContext, History
from ml.modes import K_RANGE, ModeModel, fit_modes, mode_model_name, mode_tables, schedule_sentences
from ml.mood import MODEL_NAME as MOOD_MODEL_NAME
from ml.mood import MoodResult, fit_mood
from ml.preference import (
    NEGATIVE_RATIO,
    TEST_SHARE,
    VALIDATION_WINDOWS,
    PreferenceResult,
    Selection,
    choose_cutoff,
    make_booster,
    model_name,
    train_listener,
)
from moodlake.core.settings import Settings
from moodlake.core.vocabulary import mood_thresholds, quadrant_names

SEED = 42


@dataclass
class ListenerModels:
    """What one listener's training produced."""

    user_id: str
    plays: int
    modes: ModeModel | None = None
    mode_frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    preference: dict[str, PreferenceResult] = field(default_factory=dict)
    selection: Selection | None = None
    champion: Any = None  # the plain booster with the listener's whole history: scores the catalog
    shares: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why it was not trained
    cutoff: pd.Timestamp | None = None


@dataclass
class TrainOutput:
    metrics: dict[str, Any]
    insights: dict[str, list[str]]
    counts: dict[str, Any]


# ------------------------------------------------------------------------------------ per model


def train_modes(settings: Settings, spark: Any, plays: pd.DataFrame, tracks: pd.DataFrame, user_id: str,
                seed: int) -> tuple[ModeModel, dict[str, pd.DataFrame], str]:
    """Fit, log and register one listener's listening modes."""
    import mlflow

    model = fit_modes(plays, tracks, seed=seed, spark=spark)
    frames = mode_tables(model, plays, user_id)
    with tracking.run(settings, "modes", run_name=user_id, tags={"user_id": user_id}):
        mlflow.log_params({"user_id": user_id, "features": ",".join(MODE_FEATURES), "engine": model.engine,
                           "k_range": f"{K_RANGE.start}-{K_RANGE.stop - 1}", "seed": seed, "n_plays": len(plays)})
        mlflow.log_metrics({"k": model.k, "silhouette": model.silhouette,
                            **{f"silhouette_k{k}": v for k, v in model.curve.items()}})
        tracking.log_figures({"silhouette_curve": plots.silhouette_curve(model.curve, model.k, user_id)})
        tracking.log_frame(frames["ml_listening_modes"], "modes")
        tracking.log_frame(pd.DataFrame({"k": list(model.curve), "silhouette": list(model.curve.values())}), "silhouette")
        version = tracking.register(model.pipeline, mode_model_name(user_id),
                                    plays.loc[:, list(MODE_FEATURES)].head(5).astype(np.float64))
    return model, frames, version


def train_preference(settings: Settings, plays: pd.DataFrame, tracks: pd.DataFrame, user_id: str,
                     cutoff: pd.Timestamp, seed: int, history: History | None = None,
                     ) -> tuple[dict[str, PreferenceResult], Selection | None, Any, dict[str, float], str]:
    """Choose the feature set on earlier windows, fit both negative samplings, log both, register the champion.

    The champion is the plain-negatives booster carrying the listener's whole history, so it
    scores any catalog track with history features as of the last play.
    """
    import mlflow

    history = history if history is not None else History.from_plays(plays, tracks)
    results, selection = train_listener(plays, tracks, seed=seed, cutoff=cutoff, history=history)
    plain = results["plain"]
    champion = plain.booster.with_history(history)
    x_test = champion.matrix(plain.data.test)
    values, _ = shap_values(champion.estimator, x_test)
    shares = global_shares(values, champion.features)
    with tracking.run(settings, "preference", run_name=user_id, tags={"user_id": user_id}):
        mlflow.log_params({
            "user_id": user_id, "cutoff": str(cutoff), "test_share": TEST_SHARE, "negative_ratio": NEGATIVE_RATIO,
            "seed": seed, "feature_set": plain.feature_set, "features": ",".join(champion.features),
            "champion": "booster, plain negatives", "train_as_of": "each positive's discovery",
            "validation_windows": str(VALIDATION_WINDOWS),
            **{f"booster_{k}": v for k, v in make_booster(seed).get_params().items()
               if k in ("max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization")},
            **{f"{kind}_{k}": v for kind, r in results.items() for k, v in r.data.periods.items()},
        })
        if selection is not None:
            mlflow.log_metrics({f"validation_matched_auc_{k.replace('+', '_')}": v
                                for k, v in selection.summary()["validation_auc_matched"].items()})
        for kind, result in results.items():
            mlflow.log_metrics({f"{kind}_{k}": float(v) for k, v in result.metrics().items()})
            y = result.data.test["label"].to_numpy()
            fig = plots.classifier_panels(
                y, {"boosted trees": result.booster_eval["scores"], "logistic baseline": result.baseline_eval["scores"]},
                f"{user_id}: {kind} negatives, test after {cutoff:%Y-%m-%d}",
            )
            tracking.log_figures({f"roc_pr_calibration_{kind}": fig})
            tracking.log_frame(pd.DataFrame(result.booster_eval["calibration"]), f"calibration_{kind}")
        # shares are keyed by labels for people ("artist's genres ..."); MLflow names allow fewer characters
        mlflow.log_metrics({re.sub(r"[^0-9A-Za-z_\-. :/]", "_", f"shap_share_{k}"): v for k, v in shares.items()})
        tracking.log_figures({"shap_summary": plots.shap_summary(values, x_test, f"{user_id}: SHAP on held-out tracks")})
        example = tracks.loc[:, [c for c in TRACK_COLUMNS if c in tracks]].head(5)
        version = tracking.register(champion, model_name(user_id), example)
    return results, selection, champion, shares, version


def train_mood_model(settings: Settings, tracks: pd.DataFrame, seed: int) -> tuple[MoodResult, str]:
    """Fit, log and register the catalog mood model."""
    import mlflow

    result = fit_mood(tracks, seed=seed)
    limits = mood_thresholds()
    quadrants = list(quadrant_names())
    with tracking.run(settings, "mood", run_name="catalog"):
        mlflow.log_params({"features": ",".join(MOOD_FEATURES), "excluded": "valence,energy", "seed": seed,
                           "valence_threshold": limits.valence, "energy_threshold": limits.energy})
        mlflow.log_metrics({k: float(v) for k, v in result.metrics().items()})
        tracking.log_figures({"confusion_matrix": plots.confusion(result.confusion, quadrants, "Mood quadrant (test)")})
        tracking.log_frame(pd.DataFrame(result.confusion, index=quadrants, columns=quadrants).reset_index(),
                           "confusion_matrix")
        version = tracking.register(result.model, MOOD_MODEL_NAME, model_matrix(tracks.head(5), MOOD_FEATURES))
    return result, version


# ------------------------------------------------------------------------------------- summary


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4)


def _cutoff_text(listeners: list[ListenerModels]) -> str:
    """One cutoff, or the range of per-listener cutoffs (each at 75 % of that listener's plays)."""
    days = sorted({f"{m.cutoff:%Y-%m-%d}" for m in listeners if m.cutoff is not None})
    if len(days) == 1:
        return str(next(m.cutoff for m in listeners if m.cutoff is not None))
    return f"{days[0]} .. {days[-1]} (per listener)"


def listener_summary(m: ListenerModels) -> dict[str, Any]:
    """``metrics.preference.by_listener.<user>``: the honest numbers of one listener's preference model.

    ``auc`` (plain negatives) and ``auc_matched`` (negatives of the same genre and popularity
    ventile) on the time split, ``n_pos`` / ``n_neg`` of the matched test set, and on the same
    matched test rows the single-signal baselines (popularity alone, artist familiarity alone)
    and the logistic baseline; the feature set and how it was chosen.
    """
    plain, matched = m.preference["plain"].metrics(), m.preference["matched"].metrics()
    out: dict[str, Any] = {
        "auc": plain["auc"], "auc_matched": matched["auc"],
        "n_pos": matched["n_test_pos"], "n_neg": matched["n_test"] - matched["n_test_pos"],
        "n_pos_plain": plain["n_test_pos"], "n_neg_plain": plain["n_test"] - plain["n_test_pos"],
        "auc_popularity_only": matched.get("auc_popularity_only"),
        "auc_familiarity_only": matched.get("auc_familiarity_only"),
        "auc_logistic": matched["baseline_auc"],
        "cutoff": str(m.cutoff),
        "feature_set": m.preference["matched"].feature_set,
        "features": list(m.preference["matched"].booster.features),
        "chosen_by": "mean matched AUC on rolling-origin windows before the cutoff "
                     "(50-62.5 % and 62.5-75 % of the plays); the test period is scored once",
    }
    if m.selection is not None:
        out["validation_auc_matched"] = m.selection.summary()["validation_auc_matched"]
    return {k: v for k, v in out.items() if v is not None}


def summarise(listeners: list[ListenerModels], mood: MoodResult) -> tuple[dict, dict]:
    """metrics (summary.schema.json shape) and insight sentences from the trained models.

    Several listeners: preference metrics are means over listeners (sizes summed, details in
    ``per_user``); listening modes describe the listener with the most plays (all in ``per_user``);
    SHAP shares are the mean shares (still summing to 1). Listeners without enough data are listed
    in ``skipped`` instead of silently missing.
    """
    with_modes = [m for m in listeners if m.modes is not None]
    with_pref = [m for m in listeners if m.preference]
    metrics: dict[str, Any] = {"mood": mood.metrics()}
    predictive, cognitive = [], []
    if with_modes:
        head = max(with_modes, key=lambda m: m.plays)
        assert head.modes is not None
        metrics["listening_modes"] = {
            "k": head.modes.k, "silhouette": round(head.modes.silhouette, 4), "names": head.modes.names,
            "user_id": head.user_id,
            "per_user": {m.user_id: {"k": m.modes.k, "silhouette": round(m.modes.silhouette, 4), "names": m.modes.names}
                         for m in with_modes if m.modes is not None},
        }
    if with_pref:
        plain = [m.preference["plain"].metrics() for m in with_pref]
        matched = [m.preference["matched"].metrics() for m in with_pref]
        metrics["preference"] = {
            "auc": _mean([p["auc"] for p in plain]),
            "pr_auc": _mean([p["pr_auc"] for p in plain]),
            "n_train": int(sum(p["n_train"] for p in plain)),
            "n_test": int(sum(p["n_test"] for p in plain)),
            "cutoff": _cutoff_text(with_pref),
            "negatives": "plain",
            "baseline_auc": _mean([p["baseline_auc"] for p in plain]),
            "matched_auc": _mean([p["auc"] for p in matched]),
            "matched_pr_auc": _mean([p["pr_auc"] for p in matched]),
            "aggregation": "mean over listeners; sizes summed",
            "per_user": {m.user_id: {"cutoff": str(m.cutoff), **{k: r.metrics() for k, r in m.preference.items()}}
                         for m in with_pref},
            "by_listener": {m.user_id: listener_summary(m) for m in with_pref},
        }
        shares = pd.DataFrame([m.shares for m in with_pref]).fillna(0).mean().sort_values(ascending=False)
        metrics["shap"] = {k: round(float(v), 4) for k, v in shares.items()}
    skipped = {m.user_id: m.skipped for m in listeners if m.skipped}
    if skipped:
        metrics["skipped"] = skipped
    for m in listeners:
        if m.preference:
            p, q = m.preference["plain"].metrics(), m.preference["matched"].metrics()
            predictive.append(
                f"{m.user_id}: tracks first played after {m.cutoff:%Y-%m-%d} score above unplayed catalog tracks with AUC "
                f"{p['auc']:.2f} (logistic baseline {p['baseline_auc']:.2f}; {q['auc']:.2f} when negatives match genre "
                f"and popularity, where popularity alone scores {q.get('auc_popularity_only', float('nan')):.2f} and "
                f"artist familiarity alone {q.get('auc_familiarity_only', float('nan')):.2f}; "
                f"{p['n_test_pos']} new tracks vs {p['n_test'] - p['n_test_pos']} unplayed)."
            )
            top = list(m.shares.items())
            cognitive.append(
                f"{m.user_id}: {top[0][0]} explains {top[0][1]:.0%} of your preference, then {top[1][0]} "
                f"({top[1][1]:.0%}) and {top[2][0]} ({top[2][1]:.0%})."
            )
        if m.modes is not None:
            names = ", ".join(f'"{n}"' for n in m.modes.names)
            cognitive.append(f"{m.user_id} has {m.modes.k} listening modes: {names}.")
            cognitive.extend(schedule_sentences(m.mode_frames["ml_mode_schedule"]))
    predictive.append(
        f"Without valence or energy as inputs, the mood model names a track's mood quadrant with macro-F1 "
        f"{mood.macro_f1:.2f} (always guessing the commonest quadrant: {mood.baseline_macro_f1:.2f})."
    )
    return metrics, {"predictive": predictive, "cognitive": cognitive}


# ---------------------------------------------------------------------------------------- stage


def _frames_to_gold(spark: Any, frames: dict[str, list[pd.DataFrame]], schema: str, users: list[str]) -> dict[str, int]:
    from ml.scoring import write_delta

    counts = {}
    for name, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        write_delta(spark, spark.createDataFrame(frame), f"{schema}.{name}", users)
        counts[f"{schema}.{name}"] = len(frame)
    return counts


def train(
    spark: Any,
    settings: Settings,
    user: str | None = None,
    plays_table: str = "gold.fct_plays",
    tracks_table: str = "gold.dim_tracks",
    schema: str = "gold",
    seed: int = SEED,
    log: Callable[[str], None] = print,
) -> TrainOutput:
    """Train every model on Gold, log to MLflow, write ``<schema>.ml_*``; return metrics and insights."""
    from ml.scoring import score_catalog, write_scores

    for name in (plays_table, tracks_table):
        if not spark.catalog.tableExists(name):
            raise RuntimeError(f"{name} does not exist: run `moodlake transform` (or `moodlake run`) first")
    tracks = read_tracks(spark, tracks_table, CANDIDATE_COLUMNS)
    plays = read_plays(spark, plays_table)
    history = read_history(spark, plays_table)
    known = sorted(plays["user_id"].unique())
    if user is not None and user not in known:
        raise ValueError(f"listener {user!r} has no matched plays in {plays_table}; known: {', '.join(known) or 'none'}")
    users = [user] if user else known
    if not users:
        raise RuntimeError(f"{plays_table} has no matched plays with audio features: nothing to train on")
    plays = plays[plays["user_id"].isin(users)]
    log(f"training on {len(plays):,} matched plays of {len(users)} listener(s), {len(tracks):,} catalog tracks")

    mood, mood_version = train_mood_model(settings, tracks, seed)
    log(f"mood model: macro-F1 {mood.macro_f1:.3f} vs baseline {mood.baseline_macro_f1:.3f} (v{mood_version})")
    listeners: list[ListenerModels] = []
    frames: dict[str, list[pd.DataFrame]] = {}
    context = CatalogContext.from_catalog(tracks)  # what the catalog says, built once for every listener
    for user_id in users:
        mine = plays[plays["user_id"] == user_id]
        # each listener's own cutoff: histories of different listeners need not cover the same years
        item = ListenerModels(user_id, len(mine), cutoff=choose_cutoff(mine))
        try:
            item.modes, item.mode_frames, item.versions["modes"] = train_modes(settings, spark, mine, tracks, user_id, seed)
        except ValueError as exc:  # too few plays with features: say so, train the rest
            item.skipped["listening_modes"] = str(exc)
        try:
            past = History.from_plays(history[history["user_id"] == user_id], tracks, context)
            item.preference, item.selection, item.champion, item.shares, item.versions["preference"] = (
                train_preference(settings, mine, tracks, user_id, item.cutoff, seed, past)
            )
        except ValueError as exc:
            item.skipped["preference"] = str(exc)
        listeners.append(item)
        for name, frame in item.mode_frames.items():
            frames.setdefault(name, []).append(frame)
        for model, why in item.skipped.items():
            log(f"{user_id}: no {model} model: {why}")
        if item.modes is not None:
            log(f"{user_id}: {item.modes.k} listening modes (silhouette {item.modes.silhouette:.3f}): "
                + ", ".join(item.modes.names))
        if item.preference:
            plain, matched = item.preference["plain"].metrics(), item.preference["matched"].metrics()
            log(f"{user_id}: preference AUC {plain['auc']:.3f} plain / {matched['auc']:.3f} matched negatives "
                f"(logistic baseline {plain['baseline_auc']:.3f}; popularity alone "
                f"{matched.get('auc_popularity_only', float('nan')):.3f}, familiarity alone "
                f"{matched.get('auc_familiarity_only', float('nan')):.3f}); feature set "
                f"{item.preference['plain'].feature_set}; top SHAP feature {next(iter(item.shares))}")

    counts = _frames_to_gold(spark, frames, schema, [m.user_id for m in listeners if m.modes is not None])
    models = {m.user_id: (m.champion, m.versions["preference"]) for m in listeners if m.preference}
    if models:
        expl_table, score_table = write_scores(spark, score_catalog(spark, models, tracks_table), schema, sorted(models))
        # rows written: every catalog track with features (read_tracks applies the same filter) per listener
        counts[score_table] = len(tracks) * len(models)
        counts[expl_table] = len(tracks) * len(models) * TOP_FEATURES
    metrics, insights = summarise(listeners, mood)
    registered = 1 + sum(len(m.versions) for m in listeners)
    return TrainOutput(metrics=metrics, insights=insights,
                       counts={"listeners": len(users), "models_registered": registered, "tables": counts})


def merge_into_summary(summary: dict[str, Any], out: TrainOutput) -> dict[str, Any]:
    """Put metrics into ``summary["metrics"]`` and append insight sentences; return the stage's counts."""
    summary.setdefault("metrics", {}).update(out.metrics)
    insights = summary.setdefault("insights", {})
    for kind, sentences in out.insights.items():
        insights.setdefault(kind, []).extend(sentences)
    metrics = out.metrics
    scored = sum(v for k, v in out.counts["tables"].items() if k.endswith(".ml_track_scores"))
    info: dict[str, Any] = {"listeners": out.counts["listeners"], "models_registered": out.counts["models_registered"],
                            "mood_macro_f1": metrics["mood"]["macro_f1"],
                            "mood_baseline_f1": metrics["mood"]["baseline_macro_f1"], "scored_rows": scored}
    if "preference" in metrics:
        info.update(auc=metrics["preference"]["auc"], matched_auc=metrics["preference"]["matched_auc"],
                    pr_auc=metrics["preference"]["pr_auc"])
    if "listening_modes" in metrics:
        info["modes_k"] = metrics["listening_modes"]["k"]
    return info
