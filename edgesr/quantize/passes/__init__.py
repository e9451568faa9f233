"""Graph passes that prepare a float graph for symmetric INT8: equalisation, GELU smoothing, output recentring."""
