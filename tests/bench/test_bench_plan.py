"""Benchmark plans: the bundled ones validate run by run; a bad plan stops with the file and the key."""

import pytest

from suite.bench import runner as bench
from suite.bench.plan import bundled_plans, child_overrides, load_plan
from suite.core import resources
from suite.core.errors import RecipeError, RunError
from suite.core.recipe import load_recipe

RUNS = [(plan, domain, run.system) for plan in sorted(bundled_plans())
        for domain, entry in load_plan(plan).domains.items() for run in entry.runs]


def test_bundled_plans_cover_every_domain_and_the_quick_and_full_plans_every_kind_of_system():
    assert {"quick", "full", "tiny"} <= set(bundled_plans())
    for name in ("quick", "full"):
        plan = load_plan(name)
        assert list(plan.domains) == ["spam", "recommendation", "diagnostics", "translation"]
        for domain, entry in plan.domains.items():
            assert {"full", "lora", "scratch"} <= {run.system for run in entry.runs}, (name, domain)
    assert "linear-probe" in {run.system for run in load_plan("quick").domains["diagnostics"].runs}
    assert sum(run.minutes for entry in load_plan("quick").domains.values() for run in entry.runs) <= 20


@pytest.mark.parametrize("plan, domain, system", RUNS)
def test_every_run_of_a_bundled_plan_is_a_valid_recipe_of_its_domain(plan, domain, system):
    entry = load_plan(plan).domains[domain]
    run = next(r for r in entry.runs if r.system == system)
    if "/" in run.recipe and run.recipe not in resources.bundled_recipes():
        pytest.skip(f"{run.recipe} is not bundled yet (the harness reports this run as failed)")
    recipe = load_recipe(run.recipe, child_overrides(entry, run, seed=None))
    assert recipe.domain == domain
    if system == "scratch":
        assert recipe.model.pretrained is False
    if system == "lora":
        assert recipe.lora.enabled


def test_overrides_reach_the_recipe_exactly():
    plan = load_plan({"name": "p", "seed": 3, "domains": {"spam": {
        "overrides": {"train.learning_rate": 1.0e-4, "evaluation.baselines": []},
        "runs": [{"system": "full", "recipe": "spam/tiny", "overrides": {"data.source": "my mail.csv",
                                                                          "train.epochs": 1}}]}}})
    entry = plan.domains["spam"]
    recipe = load_recipe("spam/tiny", child_overrides(entry, entry.runs[0], seed=plan.seed))
    assert (recipe.train.learning_rate, recipe.evaluation.baselines, recipe.data.source) == (1e-4, [], "my mail.csv")
    assert (recipe.train.epochs, recipe.seed) == (1.0, 3)


@pytest.mark.parametrize("plan, message", [
    ({"name": "p"}, "expected a mapping with 'name' and 'domains'"),
    ({"name": "p", "domains": {"spam": {"runs": [{"system": "full", "recipe": "spam/tiny", "minute": 1}]}}},
     "unknown key 'domains.spam.runs[0].minute'; did you mean 'minutes'?"),
    ({"name": "p", "domains": {"spam": {"runs": [{"system": "full", "recipe": "spam/tiny"},
                                                 {"system": "full", "recipe": "spam/lora"}]}}},
     "system labels must be unique, repeated: full"),
    ({"name": "p", "domains": {"spam": {"runs": [{"system": "baseline:x", "recipe": "spam/tiny"}]}}},
     "expected a plain label"),
    ({"name": "p", "domains": {"spam": {"runs": []}}}, "expected at least one run"),
    ({"name": "p", "timeout_minutes": 0, "domains": {"spam": {"runs": [{"system": "a", "recipe": "spam/tiny"}]}}},
     "timeout_minutes: expected a positive number"),
])
def test_a_bad_plan_names_the_key(plan, message):
    with pytest.raises(RecipeError, match=message.replace("[", r"\[").replace("]", r"\]").replace("?", r"\?")):
        load_plan(plan)


def test_a_plan_file_that_is_not_yaml_names_the_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError, match=f"{path}: malformed plan"):
        load_plan(path)


def test_an_output_folder_that_holds_files_is_never_reused(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(RunError, match="exists and is not an empty folder"):
        bench.run_plan(plan="tiny", out=tmp_path)


def test_the_matmul_peak_is_measured():
    peak = bench.matmul_peak(64, repeats=2)
    assert peak["flops_per_second"] > 0 and peak["size"] == 64 and peak["threads"] >= 1
