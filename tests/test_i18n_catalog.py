"""The Chinese catalogue translates every message the code and templates use."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent


def test_every_message_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_l", "-o", str(pot), "."],
                   check=True, capture_output=True, cwd=ROOT)
    wanted = {m.id for m in read_po(pot.open("rb")) if m.id}
    catalogue = read_po((ROOT / "translations/zh/LC_MESSAGES/messages.po").open("rb"))
    translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    assert wanted, "extraction found no messages"
    assert sorted(wanted - translated) == []


def test_forced_locale_speaks_its_own_language_inside_an_english_request(clean_app):
    # Mail goes out in Chinese from requests answered in English: the catalogue a request
    # keeps must follow force_locale in and out.
    from flask_babel import force_locale

    from app.i18n import gettext

    with clean_app.test_request_context("/projects?lang=en"):
        assert gettext("Edit") == "Edit"
        with force_locale("zh_CN"):
            assert gettext("Edit") == "修改"
        assert gettext("Edit") == "Edit"
    with clean_app.test_request_context("/projects"):
        assert gettext("Edit") == "修改"
