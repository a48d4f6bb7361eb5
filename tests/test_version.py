from importlib.metadata import version

import aekit
from aekit.cli.main import main


def test_the_version_agrees_everywhere(capsys):
    assert aekit.__version__ == version("aekit")
    try:
        main(["--version"])
    except SystemExit:
        pass
    assert capsys.readouterr().out.strip() == f"aekit {version('aekit')}"
