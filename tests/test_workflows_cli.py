"""`flask workflows check` accepts the shipped definitions and explains broken ones."""

import shutil
from pathlib import Path

import pytest

from app import create_app
from app.config import TestConfig

SHIPPED = Path(__file__).parent.parent / "workflows"
NATIONAL = (SHIPPED / "national-miit-2024-53.toml").read_text(encoding="utf-8")


def runner_for(directory: Path):
    app = create_app(type("Cfg", (TestConfig,), {"WORKFLOWS_DIR": directory,
                                                  "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    return app.test_cli_runner()


def test_check_passes_on_shipped_definitions():
    result = runner_for(SHIPPED).invoke(args=["workflows", "check"])
    assert result.exit_code == 0, result.output
    assert "national-miit-2024-53" in result.output


BROKEN = {
    "unknown state": (('dest = "completed"\nrole = "agency:miit"\nguards = ["completion_reported",',
                       'dest = "finished"\nrole = "agency:miit"\nguards = ["completion_reported",'),
                      "unknown state 'finished'"),
    "unknown role": (('role = "agency:pboc"\nguards = ["loan_refinanceable"]',
                      'role = "agency:mayor"\nguards = ["loan_refinanceable"]'),
                     "unknown role 'agency:mayor'"),
    "unknown guard": (('guards = ["batch_open"]', 'guards = ["looks_fine"]'),
                      "unknown guard 'looks_fine'"),
    "unknown trigger": (('trigger = "verify_completion"', 'trigger = "rubber_stamp"'),
                        "unknown trigger 'rubber_stamp'"),
    "wrong actor": (('trigger = "express_interest"\nsource = "financing_matchmaking"\n'
                     'role = "bank"',
                     'trigger = "express_interest"\nsource = "financing_matchmaking"\n'
                     'role = "enterprise"'),
                    "is fired by bank"),
    "unreachable state": (('dest = "completed"\nrole = "agency:miit"\nguards = ["completion_reported",',
                           'dest = "financing_matchmaking"\nrole = "agency:miit"\n'
                           'guards = ["completion_reported",'),
                          "unreachable state(s) from draft: completed"),
    "time limit without basis": (('[settings.acceptance]\nlabel = "受理入库时限"\nvalue = 20\n'
                                  'unit = "working_days"\nbasis = "local"\n',
                                  '[settings.acceptance]\nlabel = "受理入库时限"\nvalue = 20\n'
                                  'unit = "working_days"\n'),
                                 "setting 'acceptance': a number needs basis"),
    "bare days": (('time_limit = "acceptance"', 'sla_days = 20'),
                  "unknown field(s) sla_days"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_fails_with_a_clear_message(tmp_path, case):
    (old, new), expected = BROKEN[case]
    assert old in NATIONAL, f"fixture text for {case} no longer matches the definition"
    shutil.copy(SHIPPED / "national-miit-2024-53.toml", tmp_path / "ok.toml")
    broken = NATIONAL.replace(old, new, 1).replace('key = "national-miit-2024-53"',
                                                   'key = "broken"')
    (tmp_path / "broken.toml").write_text(broken, encoding="utf-8")

    result = runner_for(tmp_path).invoke(args=["workflows", "check"])

    assert result.exit_code != 0
    assert "broken.toml" in result.output and expected in result.output, result.output
    assert "Traceback" not in result.output


def test_check_reports_unreadable_toml(tmp_path):
    (tmp_path / "bad.toml").write_text("key = [unclosed", encoding="utf-8")
    result = runner_for(tmp_path).invoke(args=["workflows", "check"])
    assert result.exit_code != 0 and "bad.toml: cannot be read" in result.output


def test_show_prints_table_and_diagram():
    result = runner_for(SHIPPED).invoke(args=["workflows", "show", "national-miit-2024-53"])
    assert result.exit_code == 0, result.output
    assert "《推动工业领域设备更新实施方案》" in result.output and "三(四)" in result.output
    assert "national-miit-2024-53.txt" not in result.output
    assert "stateDiagram-v2" in result.output and "declared --> commitment_filing" in result.output
