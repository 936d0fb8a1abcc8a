"""The recommendation policy: two scores per candidate, mirror and coach selection, one-sentence reasons.

Pure pandas on plain inputs (a candidate frame with audio features and optional ``preference_score``
/ ``collab_score`` in [0, 1], a :class:`ml.state.ListenerState`, a :class:`ml.state.ModeProfile`), so
the rules that protect the listener — coach never jumps more than the cap and never moves down — are
testable on their own and hold whatever upstream model feeds them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from ml.state import MATCH_FEATURES, ListenerState, ModeProfile

FEATURE_LABELS = {"instrumentalness": "instrumentalness", "speechiness": "speechiness"}


@dataclass(frozen=True)
class PolicyConfig:
    """Caps and weights; any field can be overridden from Settings as ``recommend_<field>``."""

    coach_step_min: float = 0.05  # coach set mean valence is at least this far above the recent mean
    coach_step_max: float = 0.15  # ... and never more than this (the cap: no harsh jump)
    coach_step_target: float = 0.10  # per-track valence target above the recent mean
    coach_track_cap: float = 0.25  # no single coach track more than this above the recent mean
    energy_pull: float = 0.5  # share of the gap to the healthy energy baseline one step closes
    energy_step_max: float = 0.10  # ... but never more than this
    mirror_tolerance: float = 0.05  # mirror set mean valence stays within this of the mode's valence
    band_margin: float = 0.01  # aim this far inside every band, so rounding never crosses it
    coach_guard_quantile: float = 0.9  # coach only picks from candidates at least this well matched
    weight_mode: float = 0.5  # match_score blend: distance to the mode centroid
    weight_preference: float = 0.25  # ... preference-model probability
    weight_collab: float = 0.25  # ... collaborative (ALS + audio neighbours) score
    max_per_artist: int = 2  # variety: at most this many tracks by one artist in a list
    pool_size: int = 600  # candidates considered when repairing a set's mean into its band
    coach_guard_min_pool: int = 5  # ... but the guard keeps at least this many × n candidates
    # share of match_score that comes from taste (artist affinity + genre share, ml.neighbourhood) by the
    # confidence of the listener's base: the fewer plays with track features, the more it leans on taste
    taste_weight_high: float = 0.3
    taste_weight_medium: float = 0.5
    taste_weight_low: float = 0.8

    @classmethod
    def from_settings(cls, settings: Any) -> PolicyConfig:
        """Defaults, overridden by any ``settings.recommend_<field>`` that exists and is set."""
        overrides = {}
        for f in fields(cls):
            value = getattr(settings, f"recommend_{f.name}", None)
            if value is not None:
                overrides[f.name] = type(f.default)(value)
        return replace(cls(), **overrides)

    def taste_weight(self, confidence: str) -> float:
        """The taste share of match_score for a base of this confidence (low | medium | high)."""
        return {"high": self.taste_weight_high, "medium": self.taste_weight_medium}.get(confidence, self.taste_weight_low)


def feature_scales(catalog: pd.DataFrame) -> dict[str, float]:
    """Catalog standard deviation per feature: the unit in which distances are measured."""
    return {f: float(catalog[f].std()) or 1.0 for f in MATCH_FEATURES}


def mode_similarity(candidates: pd.DataFrame, profile: ModeProfile, scales: dict[str, float]) -> pd.Series:
    """exp(-½·mean z²) with z the distance to the centroid in units of the mode's own spread.

    The spread is floored at half the catalog spread, so a mode defined by a handful of plays does
    not turn every other track into a zero.
    """
    total = np.zeros(len(candidates))
    for f in MATCH_FEATURES:
        unit = max(profile.spread.get(f, 0.0), 0.5 * scales[f])
        total += ((candidates[f].to_numpy() - profile.centroid[f]) / unit) ** 2
    return pd.Series(np.exp(-0.5 * total / len(MATCH_FEATURES)), index=candidates.index)


def coach_targets(state: ListenerState, config: PolicyConfig) -> tuple[float, float]:
    """(valence, energy) one small step from the current state toward the healthy baseline."""
    valence = state.recent_valence + config.coach_step_target
    gap = state.baseline_energy - state.recent_energy
    energy = state.recent_energy + float(np.clip(config.energy_pull * gap, -config.energy_step_max, config.energy_step_max))
    return valence, energy


def score(candidates: pd.DataFrame, state: ListenerState, profile: ModeProfile, scales: dict[str, float],
          config: PolicyConfig, taste_weight: float = 0.0) -> pd.DataFrame:
    """Add ``mode_similarity``, ``match_score`` and ``improvement_score`` (all in [0, 1]).

    The audio part of match_score blends only the components present (a missing preference model or
    collaborative score re-weights the rest) so the policy runs before the upstream models exist.
    When candidates carry a ``taste_score`` (artist and genre affinity, ml.neighbourhood), it takes
    ``taste_weight`` of match_score: the audio picture of a listener with few matched plays is thin,
    their artists and genres are not.
    """
    out = candidates.copy()
    out["mode_similarity"] = mode_similarity(out, profile, scales)
    parts = [(config.weight_mode, out["mode_similarity"])]
    for col, weight in (("preference_score", config.weight_preference), ("collab_score", config.weight_collab)):
        if col in out and out[col].notna().any():
            parts.append((weight, out[col].fillna(out[col].median())))
    audio = sum(w * s for w, s in parts) / sum(w for w, _ in parts)
    if taste_weight > 0 and "taste_score" in out and out["taste_score"].notna().any():
        out["match_score"] = (1 - taste_weight) * audio + taste_weight * out["taste_score"].fillna(0.0)
    else:
        out["match_score"] = audio
    target_v, target_e = coach_targets(state, config)
    closeness = np.exp(-0.5 * ((out["valence"] - target_v) / 0.05) ** 2 - 0.5 * ((out["energy"] - target_e) / 0.10) ** 2)
    out["improvement_score"] = np.where(out["valence"] < state.recent_valence, 0.0, closeness)
    out["delta_valence"] = out["valence"] - state.recent_valence
    return out


def _diverse(ranked: pd.DataFrame, max_per_artist: int) -> pd.DataFrame:
    artist = ranked["primary_artist_name"] if "primary_artist_name" in ranked else ranked["track_id"]
    return ranked[artist.groupby(artist).cumcount() < max_per_artist]


def select_in_band(ranked: pd.DataFrame, n: int, low: float, high: float, max_swaps: int = 500) -> pd.DataFrame:
    """The best-ranked `n` rows whose mean valence lies in [low, high].

    Start from the top `n`; while the mean is below the band, swap a chosen track under the band's
    centre for the best-ranked unchosen one above it that does not overshoot the band (mirrored when
    above). First pass drops the lowest-ranked offender, second pass the most extreme one. Every swap
    moves the mean toward the band, so the loop ends; if the pool cannot reach the band it raises
    instead of returning a list that breaks the promise.
    """
    valence = ranked["valence"]
    centre = (low + high) / 2
    mean = float("nan")
    for strategy in ("rank", "extreme"):
        chosen = list(ranked.index[:n])
        pool = list(ranked.index[n:])
        for _ in range(max_swaps):
            mean = float(valence[chosen].mean())
            if low <= mean <= high:
                return ranked.loc[chosen]
            up = mean < low
            drop = [i for i in reversed(chosen) if (valence[i] < centre if up else valence[i] > centre)]
            if strategy == "extreme":
                drop.sort(key=lambda i: valence[i] if up else -valence[i])
            add = [i for i in pool if (valence[i] > centre if up else valence[i] < centre)]
            if not drop or not add:
                break
            out = drop[0]
            fits = [i for i in add if low <= mean + (valence[i] - valence[out]) / n <= high]
            into = fits[0] if fits else add[0]
            chosen.remove(out)
            pool.remove(into)
            chosen.append(into)
            chosen.sort(key=ranked.index.get_loc)
    raise ValueError(f"no set of {n} candidates has mean valence in [{low:.2f}, {high:.2f}] (best {mean:.2f})")


def select(scored: pd.DataFrame, mode: str, n: int, state: ListenerState, profile: ModeProfile,
           config: PolicyConfig, anchor_valence: float | None = None) -> pd.DataFrame:
    """Rank and pick `n` tracks for `mode` (mirror | coach) and keep the set inside its valence band.

    Mirror: by match_score; mean valence within ±tolerance of `anchor_valence` (default: the mode
    centroid). Coach: only tracks at or above the recent mean and under the per-track cap, only
    those at least as well matched as the guard quantile, ranked by improvement_score; the set mean
    lands between +step_min and +step_max above the recent mean.
    """
    m = config.band_margin
    if mode == "mirror":
        anchor = profile.centroid["valence"] if anchor_valence is None else anchor_valence
        ranked = scored.sort_values(["match_score", "track_id"], ascending=[False, True])
        low, high = anchor - config.mirror_tolerance + m, anchor + config.mirror_tolerance - m
    elif mode == "coach":
        base = state.recent_valence
        ok = scored[(scored["valence"] >= base) & (scored["valence"] <= base + config.coach_track_cap)]
        guard = ok["match_score"].quantile(config.coach_guard_quantile) if len(ok) else 0.0
        # a small (neighbourhood) pool keeps its best coach_guard_min_pool × n, not only its top 10 %
        keep = min(len(ok), config.coach_guard_min_pool * n)
        if keep:
            guard = min(guard, float(ok["match_score"].nlargest(keep).iloc[-1]))
        ok = ok[ok["match_score"] >= guard]
        ranked = ok.sort_values(["improvement_score", "match_score", "track_id"], ascending=[False, False, True])
        low, high = base + config.coach_step_min + m, base + config.coach_step_max - m
    else:
        raise ValueError(f"mode must be mirror or coach, not {mode!r}")
    ranked = _diverse(ranked, config.max_per_artist).head(config.pool_size)
    if len(ranked) < n:
        raise ValueError(f"only {len(ranked)} candidates left for {mode} mode; need {n}")
    picked = select_in_band(ranked, n, low, high)
    return picked.assign(rank=range(1, len(picked) + 1))


# ------------------------------------------------------------------------------------------ reasons


def fmt(feature: str, value: float) -> str:
    """A feature value the way a listener reads it: tempo in BPM, loudness in dB, the rest 0-1."""
    if feature == "tempo":
        return f"tempo {value:.0f} BPM"
    if feature == "loudness":
        return f"loudness {value:.1f} dB"
    return f"{FEATURE_LABELS.get(feature, feature)} {value:.2f}"


def closest_features(row: pd.Series, profile: ModeProfile, scales: dict[str, float], k: int = 2,
                     exclude: tuple[str, ...] = ("valence",)) -> list[str]:
    """The `k` features (other than `exclude`) where the track sits closest to the mode centroid."""
    dist = {f: abs(row[f] - profile.centroid[f]) / max(profile.spread.get(f, 0.0), 0.5 * scales[f])
            for f in MATCH_FEATURES if f not in exclude}
    # "instrumentalness 0.00 matches" says little: near-absent traits go last unless nothing else is close
    faint = {f for f in ("instrumentalness", "speechiness") if f in dist and profile.centroid[f] < 0.1}
    return sorted(dist, key=lambda f: (f in faint and dist[f] < 1.0, dist[f], f))[:k]


def reason(row: pd.Series, mode: str, state: ListenerState, profile: ModeProfile, scales: dict[str, float],
           config: PolicyConfig, shap_note: str | None = None) -> str:
    """One sentence naming at least two features: why this track, in this mode, for this listener."""
    close = closest_features(row, profile, scales, exclude=("valence", "energy") if mode == "coach" else ("valence",))
    fit = f"{fmt(close[0], row[close[0]])} and {fmt(close[1], row[close[1]])} match your {profile.name}"
    delta = row["valence"] - state.recent_valence
    if mode == "coach":
        closer = abs(row["energy"] - state.baseline_energy) < abs(state.recent_energy - state.baseline_energy)
        move = "moves toward" if closer else "stays near"
        text = (f"{fit}; valence {row['valence']:.2f} is {delta:+.2f} above your recent average "
                f"and energy {row['energy']:.2f} {move} your usual {state.baseline_energy:.2f}")
    else:
        text = f"{fit}; valence {row['valence']:.2f} ({delta:+.2f} vs your recent average)"
    if shap_note:
        text += f"; preference model: {shap_note}"
    return text + "."
