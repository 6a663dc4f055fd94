"""Label Studio round trip: projects, pushing images as tasks, pulling annotations as YOLO.

Public API (other stages and the CLI import only these):

- :func:`connect` / :class:`LabelStudioClient` - the SDK with token refresh and clear errors;
- :func:`setup_project` - create or reuse a RectangleLabels project (idempotent);
- :func:`push` - import a folder as tasks (upload or local-files), exactly once;
- :func:`pull` - annotations (API or JSON/JSON_MIN export) to ``images/`` + ``labels/``;
- :func:`parse_export` - the pure export reader.
"""

from vigie.labelstudio.client import LabelStudioClient, connect
from vigie.labelstudio.export import AnnotatedTask, Box, ParsedExport, parse_export
from vigie.labelstudio.predictions import Predictor
from vigie.labelstudio.project import (
    LabelConfig,
    ProjectInfo,
    get_project,
    label_config_xml,
    parse_label_config,
    setup_project,
)
from vigie.labelstudio.pull import PullResult, read_export_file
from vigie.labelstudio.push import PushResult, local_files_ref

# last: `push` and `pull` are the recorded runs of stage.py (the submodules share their names)
from vigie.labelstudio.stage import pull, push  # isort: skip

__all__ = [
    "AnnotatedTask",
    "Box",
    "LabelConfig",
    "LabelStudioClient",
    "ParsedExport",
    "Predictor",
    "ProjectInfo",
    "PullResult",
    "PushResult",
    "connect",
    "get_project",
    "label_config_xml",
    "local_files_ref",
    "parse_export",
    "parse_label_config",
    "pull",
    "push",
    "read_export_file",
    "setup_project",
]
