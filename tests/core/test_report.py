"""Tables from the shared metrics.json format."""

from suite.core.report import metrics_table


def test_rows_are_ordered_best_first_and_missing_last():
    metrics = {"primary_metric": "f1", "greater_is_better": True, "models": {
        "a": {"f1": 0.5, "auc": 0.7}, "b": {"f1": 0.9, "auc": 0.8}, "c": {"auc": 0.1}}}
    table = metrics_table(metrics, columns=["f1", "auc"])
    assert [line.split("|")[1].strip() for line in table.splitlines()[2:]] == ["b", "a", "c"]
    assert "| b | 0.9000 | 0.8000 |" in table and "| c | – | 0.1000 |" in table


def test_lower_is_better_reverses_the_order():
    metrics = {"primary_metric": "ter", "greater_is_better": False, "models": {"x": {"ter": 50.0},
                                                                                "y": {"ter": 20.0}}}
    assert metrics_table(metrics, fmt="text").splitlines()[1].startswith("y")
