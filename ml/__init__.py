"""MLflow-tracked models over Gold: listening modes, preference, mood, SHAP, recommender.

API for other stages (plain functions; pandas frames with Gold column names, docs/CONTRACTS.md):

* ``ml.features.FEATURES`` - the audio features (the project vocabulary, ``moodlake.core.vocabulary``,
  read from dbt_project.yml); ``PREFERENCE_FEATURES`` / ``MOOD_FEATURES`` are the model inputs and
  ``model_matrix(frame)`` builds them from a dim_tracks-shaped frame.
* ``ml.frames.read_plays(spark)`` / ``read_tracks(spark)`` - the Gold columns the models read, as pandas;
  ML never re-derives what dbt builds (sessions, dayparts, mood quadrants come from Gold).
* ``ml.preference.load_champion(settings, user_id)`` - the listener's preference model (MLflow
  registry ``moodlake-preference-<user_id>@champion``, sklearn flavor);
  ``model.predict_proba(model_matrix(tracks))[:, 1]`` is the preference score.
* ``ml.explain.explain_tracks(model, tracks)`` - per-track SHAP contributions (track_id, rank,
  feature, value, contribution, reason); ``global_shares(values)`` - share of mean |SHAP| per feature.
* ``ml.modes.fit_modes(plays, tracks)`` -> ``ModeModel``; ``ml.modes.assign_modes(model, frame)``
  gives a mode id per row (plays or catalog tracks); ``load_modes(settings, user_id)`` in
  ``ml.tracking`` returns the registered mode pipeline (``.mode_names_`` holds the names).
* ``ml.mood.fit_mood(tracks)`` - the mood model; its label is Gold's ``mood_quadrant`` (the dbt macro's).
* ``ml.pipeline.train(spark, settings, user=None)`` / ``train_stage(ctx)`` - the whole ML stage.

Gold outputs (Delta, schema ``gold``): ``ml_listening_modes``, ``ml_play_modes``,
``ml_session_modes``, ``ml_mode_schedule`` (mode per weekday x daypart), ``ml_track_scores``,
``ml_track_explanations``.
"""
