"""Publication: tables assembled from results, rendered in every format, and figures."""
