"""MLflow-tracked models over Gold: listening modes, preference, mood, SHAP, recommender.

API for other stages (plain functions; pandas frames with Gold column names, docs/CONTRACTS.md):

* ``ml.features.FEATURES`` - the audio features (the project vocabulary, ``moodlake.core.vocabulary``,
  read from dbt_project.yml); ``PREFERENCE_FEATURES`` / ``MOOD_FEATURES`` are the model inputs and
  ``model_matrix(frame)`` builds them from a dim_tracks-shaped frame.
* ``ml.frames.read_plays(spark)`` / ``read_tracks(spark)`` - the Gold columns the models read, as pandas;
  ML never re-derives what dbt builds (sessions, dayparts, mood quadrants come from Gold).
* ``ml.preference.load_champion(settings, user_id)`` - the listener's preference model (MLflow
  registry ``moodlake-preference-<user_id>@champion``, sklearn flavor); the model carries the listener's
  history, so ``model.predict_proba(tracks)[:, 1]`` on dim_tracks rows is the preference score (history
  features as of the last play, ``ml.history_features``).
* ``ml.explain.explain_tracks(model, tracks)`` - per-track SHAP contributions (track_id, rank,
  feature, value, contribution, reason); ``global_shares(values)`` - share of mean |SHAP| per feature.
* ``ml.recommend`` - mirror/coach/discovery lists from the listener's neighbourhood (``ml.neighbourhood``:
  the artists and genres they play and their neighbours), each stating its base and confidence;
  ``ml.rec_eval`` - recall@k on a time split against popularity and artist-familiarity baselines.
* ``ml.modes.fit_modes(plays, tracks)`` -> ``ModeModel``; ``ml.modes.assign_modes(model, frame)``
  gives a mode id per row (plays or catalog tracks); ``load_modes(settings, user_id)`` in
  ``ml.tracking`` returns the registered mode pipeline (``.mode_names_`` holds the names).
* ``ml.mood.fit_mood(tracks)`` - the mood model; its label is Gold's ``mood_quadrant`` (the dbt macro's).
* ``ml.pipeline.train(spark, settings, user=None)`` / ``train_stage(ctx)`` - the whole ML stage.

Gold outputs (Delta, schema ``gold``): ``ml_listening_modes``, ``ml_play_modes``,
``ml_session_modes``, ``ml_mode_schedule`` (mode per weekday x daypart), ``ml_track_scores``,
``ml_track_explanations``.
"""
