"""Recommendation: tune a sentence encoder and item embeddings on user-item interactions, against popularity, ALS
and BPR, on the next item and on the whole taste.

Python::

    import suite
    run = suite.tune("recommendation/tiny")
    recommender = suite.load(run.path)
    recommender.recommend(["i3", "i17"], k=5)       # a history the model never saw
    recommender.recommend_user("u4", k=5)           # a user of the training data
    recommender.similar_items("i3", k=5)

Command line::

    suite train recommendation/default
    suite predict runs/recommendation-default-... user:196 "items:50|181|Heat (1995)"

The domain registers itself through the ``suite.domains`` entry point (``suite.recommendation.hooks:DOMAIN``).
"""
