"""The leader budget from the live zoo.cfg when the start flags do not say."""

from harness.model.availability import DEFAULT_LEADER_BUDGET, leader_loss_budget


def test_flags_win_then_zoo_cfg_then_the_default():
    flags = {"tick_time": "2000", "init_limit": "10"}
    assert leader_loss_budget(flags, {"tickTime": "1000", "initLimit": "5"})[0] == 25.0
    budget, why = leader_loss_budget({}, {"tickTime": "1000", "initLimit": "5"})
    assert budget == 10.0 and why.endswith("(from zoo.cfg)")
    assert leader_loss_budget({}, {})[0] == DEFAULT_LEADER_BUDGET
    assert leader_loss_budget({}, {"tickTime": "2000"})[0] == DEFAULT_LEADER_BUDGET
