"""MLflow-tracked models over Gold: listening modes, preference, mood, SHAP, recommender."""
