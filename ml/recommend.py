"""Mood-aware recommendations: mirror, coach, discovery and "you vs the world" lists from Gold.

Reads ``gold.fct_plays`` and ``gold.dim_tracks`` (plus the ML engineer's ``gold.ml_track_scores``,
``gold.ml_track_explanations``, ``gold.ml_play_modes`` and ``gold.ml_listening_modes`` and the
``gold.mart_genre_gap`` mart when they exist), scores the catalog tracks within reach of the listener's
taste (:mod:`ml.neighbourhood`: the artists they play, matched or not, their genres and neighbour
artists) with :mod:`ml.policy`, and writes ``gold.ml_recommendations``. Every list carries its base
(how many plays with track-level features it rests on, their share, a confidence label); with few
such plays the scores lean on artist and genre signals and the list says so. The output supports
reflection; it is not a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml import als as collab
from ml.frames import without_api_plays
from ml.neighbourhood import (
    LISTENING_COLUMNS,
    CatalogArtists,
    EvidenceBase,
    Neighbourhood,
    NeighbourhoodConfig,
    artist_key,
    build_neighbourhood,
    song_key,
    with_artist_estimates,
)
from ml.policy import PolicyConfig, feature_scales, fmt, reason, score, select
from ml.state import (
    MATCH_FEATURES,
    Context,
    ListenerState,
    ModeProfile,
    compute_state,
    mode_profile,
    parse_context,
    recent_track_ids,
    usable_plays,
)

DISCLAIMER = "Moodlake supports reflection, not a diagnosis: these lists describe listening, not a person's health."
RECOMMENDATIONS_TABLE = "gold.ml_recommendations"
PLAY_COLUMNS = ("play_id", "user_id", "track_id", "artist_name", "played_at", "local_date", "local_weekday",
                "daypart", "session_id", "is_skipped", "is_short_play", "genre", *MATCH_FEATURES)
TRACK_COLUMNS = ("track_id", "track_name", "primary_artist_name", "primary_genre", "popularity", *MATCH_FEATURES)
OUTPUT_COLUMNS = ("user_id", "mode", "context", "rank", "track_id", "track_name", "artist_name", "genre", "valence",
                  "energy", "tempo", "match_score", "improvement_score", "reason", "framing", "generated_at")
OUTPUT_DDL = (
    "user_id string, mode string, context string, rank int, track_id string, track_name string, "
    "artist_name string, genre string, valence double, energy double, tempo double, match_score double, "
    "improvement_score double, reason string, framing string, generated_at timestamp"
)


@dataclass
class RecInputs:
    """Everything the recommender reads, as pandas; optional upstream tables are None until they exist.

    ``plays`` are the export plays with track-level audio features (what the mood state, the modes and
    ALS learn from); ``listening`` is every export play, matched or not (artists, genres, the base).
    Without ``listening`` the recommender treats ``plays`` as the whole history.
    """

    plays: pd.DataFrame
    tracks: pd.DataFrame
    listening: pd.DataFrame | None = None
    preference: pd.DataFrame | None = None  # user_id, track_id, preference_score
    explanations: pd.DataFrame | None = None  # user_id, track_id, feature, value, contribution
    play_modes: pd.DataFrame | None = None  # play_id, user_id, mode_id
    listening_modes: pd.DataFrame | None = None  # user_id, mode_id, mode_name
    genre_gap: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _optional(spark: Any, name: str, columns: tuple[str, ...]) -> pd.DataFrame | None:
    """A Gold table as pandas if it exists and has the contracted columns, else None."""
    if not spark.catalog.tableExists(name):
        return None
    df = spark.table(name)
    if not set(columns) <= set(df.columns):
        return None
    return df.select(*columns).toPandas()


def load_inputs(spark: Any, plays_table: str = "gold.fct_plays", tracks_table: str = "gold.dim_tracks",
                ml_schema: str = "gold") -> RecInputs:
    """Read Gold through the shared session; plays without a track or features cannot be scored."""
    for name in (plays_table, tracks_table):
        if not spark.catalog.tableExists(name):
            raise RuntimeError(f"{name} does not exist yet: run `moodlake transform` (or `moodlake run`) first")
    plays_df = without_api_plays(spark.table(plays_table))  # ALS and the mood state fit on export plays only
    cols = [c for c in PLAY_COLUMNS if c in plays_df.columns]
    plays = plays_df.where("track_id is not null and valence is not null").select(*cols).toPandas()
    listening = plays_df.select(*[c for c in LISTENING_COLUMNS if c in plays_df.columns]).toPandas()
    cond = " and ".join(f"{f} is not null" for f in MATCH_FEATURES)
    tracks = spark.table(tracks_table).where(cond).select(*TRACK_COLUMNS).toPandas()
    inputs = RecInputs(plays=plays, tracks=tracks.drop_duplicates("track_id").reset_index(drop=True),
                       listening=listening)
    inputs.preference = _optional(spark, f"{ml_schema}.ml_track_scores", ("user_id", "track_id", "preference_score"))
    inputs.explanations = _optional(spark, f"{ml_schema}.ml_track_explanations",
                                    ("user_id", "track_id", "feature", "value", "contribution"))
    inputs.play_modes = _optional(spark, f"{ml_schema}.ml_play_modes", ("play_id", "user_id", "mode_id"))
    inputs.listening_modes = _optional(spark, f"{ml_schema}.ml_listening_modes", ("user_id", "mode_id", "mode_name"))
    if spark.catalog.tableExists(f"{ml_schema}.mart_genre_gap"):
        inputs.genre_gap = spark.table(f"{ml_schema}.mart_genre_gap").toPandas()
    inputs.sources = {
        "preference": "gold.ml_track_scores" if inputs.preference is not None else "absent",
        "shap": "gold.ml_track_explanations" if inputs.explanations is not None else "absent",
        "modes": "gold.ml_play_modes" if inputs.play_modes is not None else "context plays (own centroid)",
        "genre_gap": "gold.mart_genre_gap" if inputs.genre_gap is not None else "computed from fct_plays",
    }
    return inputs


@dataclass
class Recommendation:
    """One list: rows (OUTPUT_COLUMNS) plus the framing and the numbers a caller may report."""

    user_id: str
    mode: str
    context: str
    rows: pd.DataFrame
    framing: str
    state: ListenerState
    profile: ModeProfile | None = None
    base: EvidenceBase | None = None
    neighbourhood: str | None = None

    def records(self) -> list[dict[str, Any]]:
        out = self.rows.copy()
        out["generated_at"] = out["generated_at"].astype(str)
        return out.to_dict(orient="records")


class Recommender:
    """Scores the listener's neighbourhood of the catalog; fits ALS once per instance and reuses it.

    ``spark`` may be None (unit tests, benchmarks on parquet): ALS is then fitted in NumPy
    (:func:`ml.als.fit_als_local`) instead of Spark MLlib.
    """

    def __init__(self, spark: Any, inputs: RecInputs, config: PolicyConfig | None = None,
                 neighbourhood_config: NeighbourhoodConfig | None = None,
                 als_model: collab.AlsModel | None = None) -> None:
        self.spark = spark
        self.inputs = inputs
        self.config = config or PolicyConfig()
        self.neighbourhood_config = neighbourhood_config or NeighbourhoodConfig()
        self.scales = feature_scales(inputs.tracks)
        self._als: collab.AlsModel | None = als_model  # fitted on inputs.plays when first needed
        self._collab: dict[str, pd.Series] = {}
        self._artists: CatalogArtists | None = None
        self._neighbourhoods: dict[str, Neighbourhood] = {}
        self._state_plays: dict[str, tuple[pd.DataFrame, EvidenceBase]] = {}
        self.generated_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    # ---------------------------------------------------------------------------------- inputs
    @property
    def listening(self) -> pd.DataFrame:
        """Every export play, matched or not (``inputs.plays`` when no wider frame was given)."""
        return self.inputs.listening if self.inputs.listening is not None else self.inputs.plays

    @property
    def users(self) -> list[str]:
        return sorted(set(self.listening["user_id"].dropna()) | set(self.inputs.plays["user_id"].dropna()))

    def als_model(self) -> collab.AlsModel:
        if self._als is None:
            counts = collab.play_counts(self.inputs.plays)
            self._als = collab.fit_als(self.spark, counts) if self.spark is not None else collab.fit_als_local(counts)
        return self._als

    def collab_scores(self, user_id: str) -> pd.Series:
        if user_id not in self._collab:
            mine = usable_plays(self.inputs.plays[self.inputs.plays["user_id"] == user_id])
            self._collab[user_id] = collab.hybrid_scores(self.als_model(), user_id, self.inputs.tracks, mine)
        return self._collab[user_id]

    def check_user(self, user_id: str) -> None:
        if user_id not in self.users:
            raise ValueError(f"unknown listener {user_id!r}; listeners in fct_plays: {', '.join(self.users) or 'none'}")

    def catalog_artists(self) -> CatalogArtists:
        if self._artists is None:
            self._artists = CatalogArtists.from_tracks(self.inputs.tracks)
        return self._artists

    def neighbourhood(self, user_id: str) -> Neighbourhood:
        """The listener's artists, genres and neighbour artists, and the catalog tracks of all of them."""
        if user_id not in self._neighbourhoods:
            self._neighbourhoods[user_id] = build_neighbourhood(
                self.listening, self.inputs.tracks, user_id, self.neighbourhood_config, self.catalog_artists())
        return self._neighbourhoods[user_id]

    def state_plays(self, user_id: str) -> tuple[pd.DataFrame, EvidenceBase]:
        """The plays the mood state and the mode rest on, and the listener's base.

        Normally the plays with track-level features. When those are scarce (confidence low), plays
        that only have the artist-level estimate (``artist_est_*``) join them, so "recent" describes
        the listener's recent weeks rather than the few matched plays of long ago; the base says so.
        """
        if user_id not in self._state_plays:
            base = self.neighbourhood(user_id).base
            mine = self.inputs.plays[self.inputs.plays["user_id"] == user_id]
            frame = mine
            if base.fallback:
                everything = self.listening[self.listening["user_id"] == user_id]
                blended = with_artist_estimates(everything)
                if len(usable_plays(blended)) > len(usable_plays(mine)):
                    estimated = len(usable_plays(blended)) - base.usable_feature_plays
                    frame = blended
                    base = replace(base, state_source=f"{base.usable_feature_plays:,} plays with track features and "
                                                      f"{estimated:,} with artist-level estimates")
            self._state_plays[user_id] = (frame, base)
        return self._state_plays[user_id]

    def base(self, user_id: str) -> EvidenceBase:
        """What this listener's lists rest on (plays with track features, shares, confidence)."""
        self.check_user(user_id)
        return self.state_plays(user_id)[1]

    def state_and_profile(self, user_id: str, ctx: Context) -> tuple[ListenerState, ModeProfile, EvidenceBase]:
        frame, base = self.state_plays(user_id)
        state = compute_state(frame, user_id)
        profile = mode_profile(frame, state, ctx, self.inputs.play_modes, self.inputs.listening_modes)
        return state, profile, base

    def candidates(self, user_id: str, state: ListenerState, new_artists_only: bool = False,
                   scope: str = "neighbourhood", exclude_played: bool = False) -> pd.DataFrame:
        """Candidate tracks with taste, collaborative and preference scores; minus recent replays.

        ``scope`` "neighbourhood" (default) keeps the tracks within reach of the listener's taste;
        "catalog" scores every catalog track (taste 0 outside the neighbourhood: "you vs the world").
        ``new_artists_only`` drops every artist the listener played (by name, matched or not);
        ``exclude_played`` every track they played (by id and by title + artist).
        """
        nb = self.neighbourhood(user_id)
        if scope == "neighbourhood":
            cands = nb.tracks.copy()
        elif scope == "catalog":
            taste = nb.tracks.drop_duplicates("track_id").set_index("track_id")[
                ["source", "artist_affinity", "genre_share", "taste_score"]]
            cands = self.inputs.tracks.join(taste, on="track_id")
            cands["source"] = cands["source"].fillna("catalog")
            cands["taste_score"] = cands["taste_score"].fillna(0.0)
        else:
            raise ValueError(f"scope must be neighbourhood or catalog, not {scope!r}")
        mine = self.listening[self.listening["user_id"] == user_id]
        excluded = recent_track_ids(mine, state) if "local_date" in mine else set()
        if exclude_played:
            excluded |= set(mine["track_id"].dropna())
        cands = cands[~cands["track_id"].isin(excluded)]
        key = song_key(cands["track_name"], cands["primary_artist_name"])
        if exclude_played:  # the same song under another catalog id, or only by name in the export
            tracks = self.inputs.tracks
            played = tracks[tracks["track_id"].isin(set(mine["track_id"].dropna()))]
            seen = set(song_key(played["track_name"], played["primary_artist_name"]))
            if "track_name" in mine:
                seen |= set(song_key(mine["track_name"], mine["artist_name"]))
            cands = cands[~key.isin(seen)]
            key = key[cands.index]
        if new_artists_only:
            keep = ~artist_key(cands["primary_artist_name"]).isin(nb.played_keys)
            cands, key = cands[keep], key[keep]
        # the same song on several albums/compilations has several ids: one is enough in a list
        cands = cands[~key.duplicated()].copy()
        cands["collab_score"] = cands["track_id"].map(self.collab_scores(user_id))
        pref = self.inputs.preference
        if pref is not None:
            mine_pref = pref[pref["user_id"] == user_id].drop_duplicates("track_id").set_index("track_id")["preference_score"]
            cands["preference_score"] = cands["track_id"].map(mine_pref)
        return cands.reset_index(drop=True)

    def taste_note(self, user_id: str, row: pd.Series) -> str:
        """Why the track is within reach: an artist the listener plays, or a neighbour of one in their genres."""
        nb = self.neighbourhood(user_id)
        key = artist_key(pd.Series([row["primary_artist_name"]])).iloc[0]
        if key in nb.artists.index:
            info = nb.artists.loc[key]
            if info["source"] == "played":
                return f"You play {info['artist_name']} ({int(info['plays']):,} plays)"
            return f"{row['primary_artist_name']} plays {row['primary_genre']}, near {info['near']}, whom you play"
        share = nb.genres.get(row["primary_genre"], 0.0)
        return f"{row['primary_genre']} is {share:.0%} of your plays"

    def shap_notes(self, user_id: str, track_ids: list[str]) -> dict[str, str]:
        """Top-two SHAP contributions per track from gold.ml_track_explanations ("energy +0.12, tempo -0.03")."""
        ex = self.inputs.explanations
        if ex is None or ex.empty:
            return {}
        mine = ex[(ex["user_id"] == user_id) & ex["track_id"].isin(track_ids)].copy()
        mine["size"] = mine["contribution"].abs()
        notes = {}
        for track_id, group in mine.sort_values("size", ascending=False).groupby("track_id", sort=False):
            top = group.head(2)
            notes[track_id] = ", ".join(f"{f} {c:+.2f}" for f, c in zip(top["feature"], top["contribution"], strict=True))
        return notes

    # ---------------------------------------------------------------------------------- lists
    def recommend(self, user_id: str, mode: str = "mirror", n: int = 20, context: str | Context = "now",
                  new_artists_only: bool = False, scope: str = "neighbourhood",
                  exclude_played: bool = False) -> Recommendation:
        """A mirror or coach list of `n` tracks for the listener in a context, with its base."""
        self.check_user(user_id)
        ctx = parse_context(context) if isinstance(context, str) else context
        state, profile, base = self.state_and_profile(user_id, ctx)
        cands = self.candidates(user_id, state, new_artists_only, scope=scope, exclude_played=exclude_played)
        scored = score(cands, state, profile, self.scales, self.config, self.config.taste_weight(base.confidence))
        anchor = state.recent_valence if ctx.label == "now" else None
        picked = select(scored, mode, n, state, profile, self.config, anchor_valence=anchor)
        notes = self.shap_notes(user_id, list(picked["track_id"]))
        picked["reason"] = [
            f"{self.taste_note(user_id, row)}; "
            + reason(row, mode, state, profile, self.scales, self.config, notes.get(row["track_id"]))
            for _, row in picked.iterrows()
        ]
        framing = state.framing(mode)
        return self._list(picked, user_id, mode, ctx.label, framing, state, profile, base)

    def discovery(self, user_id: str, n: int = 20) -> Recommendation:
        """Tracks by neighbour artists (never played) in the genres the listener plays most, fit to the current mode."""
        self.check_user(user_id)
        state, profile, base = self.state_and_profile(user_id, Context("now"))
        shares = self.neighbourhood(user_id).genres
        liked = shares[shares >= 0.15].index.tolist() or shares.index[:2].tolist()
        cands = self.candidates(user_id, state, new_artists_only=True)
        cands = cands[cands["primary_genre"].isin(liked)]
        scored = score(cands, state, profile, self.scales, self.config, self.config.taste_weight(base.confidence))
        ranked = scored.sort_values(["match_score", "track_id"], ascending=[False, True])
        artist = ranked["primary_artist_name"]
        picked = ranked[artist.groupby(artist).cumcount() < 1].head(n).assign(rank=lambda d: range(1, len(d) + 1))
        picked["reason"] = [
            f"{row['primary_genre']} is {shares[row['primary_genre']]:.0%} of your plays and "
            f"{row['primary_artist_name']} is new to you; " + reason(row, "mirror", state, profile, self.scales,
                                                                     self.config)
            for _, row in picked.iterrows()
        ]
        framing = f"New artists in the genres you play most ({', '.join(liked)})."
        return self._list(picked, user_id, "discovery", "now", framing, state, profile, base)

    def genre_gaps(self, user_id: str) -> pd.DataFrame:
        """(genre, listener_share, catalog_share, gap) from the mart when present, else from plays vs catalog."""
        gap = self.inputs.genre_gap
        if gap is not None and {"user_id", "genre"} <= set(gap.columns):
            share_cols = [c for c in gap.columns if "share" in c]
            mine = gap[gap["user_id"] == user_id]
            if "genre_level" in mine:  # the mart has genre and subgenre rows; candidates carry primary_genre
                mine = mine[mine["genre_level"] == "genre"]
            if len(share_cols) >= 2 and not mine.empty:
                user_col = "user_share" if "user_share" in share_cols else share_cols[0]
                world_col = "catalog_share" if "catalog_share" in share_cols else next(c for c in share_cols if c != user_col)
                return pd.DataFrame({"genre": mine["genre"], "listener_share": mine[user_col],
                                     "catalog_share": mine[world_col]}).assign(
                    gap=lambda d: d["listener_share"] - d["catalog_share"]).sort_values("gap")
        you = self.neighbourhood(user_id).genres  # every play: a matched play's genre, else its artist's
        world = self.inputs.tracks["primary_genre"].value_counts(normalize=True)
        frame = pd.DataFrame({"listener_share": you, "catalog_share": world}).fillna(0.0)
        frame["gap"] = frame["listener_share"] - frame["catalog_share"]
        return frame.rename_axis("genre").reset_index().sort_values("gap")

    def you_vs_world(self, user_id: str, n: int = 10) -> Recommendation:
        """Well-matched, widely played tracks from the genres the world plays far more than this listener.

        Deliberately outside the neighbourhood (scope "catalog"): the reason names the genre gap.
        """
        self.check_user(user_id)
        state, profile, base = self.state_and_profile(user_id, Context("now"))
        gaps = self.genre_gaps(user_id)
        under = gaps[gaps["gap"] < 0].head(2)
        cands = self.candidates(user_id, state, scope="catalog")
        cands = cands[cands["primary_genre"].isin(under["genre"])]
        scored = score(cands, state, profile, self.scales, self.config)
        scored["world_rank"] = 0.6 * scored["match_score"] + 0.4 * scored["popularity"] / 100
        ranked = scored.sort_values(["world_rank", "track_id"], ascending=[False, True])
        artist = ranked["primary_artist_name"]
        picked = ranked[artist.groupby(artist).cumcount() < 1].head(n).assign(rank=lambda d: range(1, len(d) + 1))
        share = under.set_index("genre")
        picked["reason"] = [
            f"{row['primary_genre']} is {share.loc[row['primary_genre'], 'catalog_share']:.0%} of the catalog but "
            f"{share.loc[row['primary_genre'], 'listener_share']:.0%} of your plays; popularity {row['popularity']:.0f} "
            f"and {reason(row, 'mirror', state, profile, self.scales, self.config)}"
            for _, row in picked.iterrows()
        ]
        framing = "You vs the world: genres the catalog plays much more than you do."
        return self._list(picked, user_id, "world", "now", framing, state, profile, base)

    def _list(self, picked: pd.DataFrame, user_id: str, mode: str, context: str, framing: str,
              state: ListenerState, profile: ModeProfile, base: EvidenceBase) -> Recommendation:
        rows = self._rows(picked, user_id, mode, context, f"{framing} {base.sentence()}")
        return Recommendation(user_id, mode, context, rows, framing, state, profile, base,
                              self.neighbourhood(user_id).describe())

    def _rows(self, picked: pd.DataFrame, user_id: str, mode: str, context: str, framing: str) -> pd.DataFrame:
        """The gold.ml_recommendations rows; the stored framing carries the base, so Gold readers see it too."""
        rows = pd.DataFrame({
            "user_id": user_id, "mode": mode, "context": context, "rank": picked["rank"].astype("int32"),
            "track_id": picked["track_id"], "track_name": picked["track_name"],
            "artist_name": picked["primary_artist_name"], "genre": picked["primary_genre"],
            "valence": picked["valence"].astype(float), "energy": picked["energy"].astype(float),
            "tempo": picked["tempo"].astype(float), "match_score": picked["match_score"].round(4).astype(float),
            "improvement_score": picked["improvement_score"].round(4).astype(float), "reason": picked["reason"],
            "framing": framing, "generated_at": self.generated_at,
        })
        return rows.reset_index(drop=True).loc[:, list(OUTPUT_COLUMNS)]


# -------------------------------------------------------------------------------------------- write


def write_recommendations(spark: Any, lists: list[Recommendation], table: str = RECOMMENDATIONS_TABLE) -> int:
    """Replace each (user, mode, context) list in the Delta table atomically; other lists stay.

    DataFrameWriterV2 ``overwrite(condition)`` (Delta's replaceWhere) rather than ``saveAsTable``,
    which re-registers the schema in the Hive metastore and logs a long, spurious alter-table error.
    """
    from pyspark.sql import functions as F

    if not lists:
        return 0
    rows = pd.concat([r.rows for r in lists], ignore_index=True)
    df = spark.createDataFrame(rows, schema=OUTPUT_DDL)
    keys = sorted({(r.user_id, r.mode, r.context) for r in lists})
    if not spark.catalog.tableExists(table):
        df.writeTo(table).using("delta").create()
        return len(rows)
    # the replaceWhere condition as Columns, not SQL text: user ids and contexts are data
    cond = None
    for user_id, mode, context in keys:
        one = (F.col("user_id") == F.lit(user_id)) & (F.col("mode") == F.lit(mode)) & (F.col("context") == F.lit(context))
        cond = one if cond is None else cond | one
    df.writeTo(table).overwrite(cond)
    return len(rows)


def explain_track(rec: Recommender, track_id: str, user_id: str, mode: str = "mirror") -> dict[str, Any]:
    """Both scores, the policy sentence and SHAP contributions for any catalog track."""
    rec.check_user(user_id)
    tracks = rec.inputs.tracks
    if track_id not in set(tracks["track_id"]):
        raise ValueError(f"track {track_id!r} is not in gold.dim_tracks (or lacks audio features)")
    state, profile, base = rec.state_and_profile(user_id, Context("now"))
    taste = rec.neighbourhood(user_id).tracks.drop_duplicates("track_id").set_index("track_id")[["source", "taste_score"]]
    everything = rec.inputs.tracks.join(taste, on="track_id")
    everything["source"] = everything["source"].fillna("outside your artists and genres")
    everything["taste_score"] = everything["taste_score"].fillna(0.0)
    everything["collab_score"] = everything["track_id"].map(rec.collab_scores(user_id))
    if rec.inputs.preference is not None:
        pref = rec.inputs.preference
        mine = pref[pref["user_id"] == user_id].drop_duplicates("track_id").set_index("track_id")["preference_score"]
        everything["preference_score"] = everything["track_id"].map(mine)
    scored = score(everything, state, profile, rec.scales, rec.config, rec.config.taste_weight(base.confidence))
    row = scored[scored["track_id"] == track_id].iloc[0]
    note = rec.shap_notes(user_id, [track_id]).get(track_id)
    shap_rows: list[dict[str, Any]] = []
    ex = rec.inputs.explanations
    if ex is not None:
        hit = ex[(ex["user_id"] == user_id) & (ex["track_id"] == track_id)]
        shap_rows = hit[["feature", "value", "contribution"]].to_dict(orient="records")
    percentile = float((scored["match_score"] < row["match_score"]).mean())
    return {
        "user_id": user_id,
        "track_id": track_id,
        "track_name": row["track_name"],
        "artist_name": row["primary_artist_name"],
        "genre": row["primary_genre"],
        "features": {f: float(row[f]) for f in MATCH_FEATURES},
        "match_score": round(float(row["match_score"]), 4),
        "match_percentile": round(percentile, 4),
        "improvement_score": round(float(row["improvement_score"]), 4),
        "mode_similarity": round(float(row["mode_similarity"]), 4),
        "collab_score": None if pd.isna(row.get("collab_score")) else round(float(row["collab_score"]), 4),
        "preference_score": None if pd.isna(row.get("preference_score", np.nan)) else round(float(row["preference_score"]), 4),
        "taste_score": round(float(row["taste_score"]), 4),
        "neighbourhood": {"played": "an artist you play", "neighbour": "a neighbour artist in your genres"}.get(
            row["source"], row["source"]),
        "reason": f"{rec.taste_note(user_id, row)}; " + reason(row, mode, state, profile, rec.scales, rec.config, note),
        "base": base.as_dict(),
        "base_sentence": base.sentence(),
        "base_lines": base.lines(),
        "shap": shap_rows,
        "shap_source": rec.inputs.sources.get("shap", "absent"),
        "state": {"recent_valence": round(state.recent_valence, 3), "recent_energy": round(state.recent_energy, 3),
                  "baseline_valence": round(state.baseline_valence, 3), "streak_days": state.streak_days},
        "note": DISCLAIMER,
    }


def describe_list(rec: Recommendation) -> str:
    """A sentence for summary.json / the console about what a list does, then what it rests on."""
    mean_v = rec.rows["valence"].mean()
    delta = mean_v - rec.state.recent_valence
    base = f" {rec.base.sentence()}" if rec.base is not None else ""
    if rec.mode == "coach":
        return (f"{rec.user_id}: coach mode offers {len(rec.rows)} tracks averaging valence {mean_v:.2f} "
                f"({delta:+.2f} over the recent {rec.state.recent_valence:.2f}), a small step"
                + (f" after {rec.state.streak_days} low-valence days" if rec.state.in_streak else "") + "." + base)
    top = rec.profile
    feats = ""
    if top is not None:
        feats = f" around {fmt('energy', top.centroid['energy'])} and {fmt('tempo', top.centroid['tempo'])}"
    return (f"{rec.user_id}: {len(rec.rows)} {rec.mode} tracks for {rec.context} from your "
            f"{top.name if top else 'mode'}{feats}.{base}")


# ---------------------------------------------------------------------------------------- pipeline


@dataclass
class RecommendRun:
    """What one recommender pass over every listener produced, for the run summary."""

    sentences: list[str]
    metrics: dict[str, Any]
    counts: dict[str, Any]


def recommend_all(spark: Any, settings: Any, plays_table: str = "gold.fct_plays", tracks_table: str = "gold.dim_tracks",
                  ml_schema: str = "gold", out_table: str = RECOMMENDATIONS_TABLE) -> RecommendRun:
    """Mirror, coach, discovery and you-vs-world lists for every listener, written to ``out_table``; the
    ALS-vs-popularity evaluation logged to MLflow; prescriptive sentences and recommender metrics returned."""
    inputs = load_inputs(spark, plays_table, tracks_table, ml_schema)
    rec = Recommender(spark, inputs, PolicyConfig.from_settings(settings))
    lists: list[Recommendation] = []
    sentences: list[str] = []
    skipped: dict[str, str] = {}
    per_user: dict[str, dict[str, float]] = {}
    for user in rec.users:
        try:
            mirror, coach = rec.recommend(user, "mirror"), rec.recommend(user, "coach")
            mine = rec.state_plays(user)[0]
            daypart = str(mine["daypart"].mode().iloc[0])
            contextual = rec.recommend(user, "mirror", context=daypart)
            user_lists = [mirror, coach, contextual, rec.discovery(user), rec.you_vs_world(user)]
        except ValueError as exc:  # too little history for this listener: report, keep the others
            skipped[user] = str(exc)
            continue
        lists += user_lists
        state = mirror.state
        per_user[user] = {
            "base": rec.base(user).as_dict(),
            "recent_valence": round(state.recent_valence, 3),
            "streak_days": state.streak_days,
            "mirror_delta_valence": round(float(mirror.rows["valence"].mean() - state.recent_valence), 3),
            "coach_delta_valence": round(float(coach.rows["valence"].mean() - state.recent_valence), 3),
            "mirror_mean_match": round(float(mirror.rows["match_score"].mean()), 3),
            "coach_mean_improvement": round(float(coach.rows["improvement_score"].mean()), 3),
        }
        profile = contextual.profile
        assert profile is not None
        sentences.append(
            f"{user}: for {daypart}s, {len(contextual.rows)} tracks from your {profile.name}: "
            f"{fmt('energy', profile.centroid['energy'])}, {fmt('tempo', profile.centroid['tempo'])}, "
            f"mean valence {contextual.rows['valence'].mean():.2f}."
        )
        sentences.append(describe_list(coach))
    rows = write_recommendations(spark, lists, out_table)
    metrics = collab.evaluate(spark, inputs.plays, inputs.tracks)
    run_id = collab.log_evaluation(settings, metrics)
    recommender_metrics = {
        **metrics, "mlflow_run_id": run_id, "by_listener": per_user, "skipped": skipped, "inputs": inputs.sources,
    }
    confidence = [v["base"]["confidence"] for v in per_user.values()]
    counts = {"lists": len(lists), "rows": rows, "listeners": len(per_user), "skipped": len(skipped),
              "low_confidence_listeners": confidence.count("low"),
              "als_recall_at_20": metrics.get("als_recall_at_20_all"),
              "popularity_recall_at_20": metrics.get("popularity_recall_at_20_all")}
    return RecommendRun(sentences=[*sentences, DISCLAIMER], metrics=recommender_metrics, counts=counts)
