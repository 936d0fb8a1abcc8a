"""Read-only analyses of Gold: status, Silver summary, insight sentences, the HTML report."""
