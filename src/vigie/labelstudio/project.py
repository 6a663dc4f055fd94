"""Label Studio projects: the RectangleLabels config, idempotent creation by title or id."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from vigie.errors import ConfigError, LabelStudioError
from vigie.labelstudio.client import LabelStudioClient

log = logging.getLogger(__name__)

IMAGE_FIELD = "image"
FROM_NAME = "label"


@dataclass(frozen=True)
class LabelConfig:
    """What Vigie needs from a project's labelling config."""

    labels: list[str]  # class names in the config's order (= YOLO class ids)
    image_field: str = IMAGE_FIELD  # the task data key of the image ($image)
    from_name: str = FROM_NAME  # the RectangleLabels tag name
    to_name: str = IMAGE_FIELD  # the Image tag name


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    title: str
    config: LabelConfig
    created: bool = False
    updated: bool = False


def label_config_xml(labels: list[str]) -> str:
    """The RectangleLabels config for ``labels`` (in this order)."""
    clean = validate_labels(labels)
    lines = [f"    <Label value={quoteattr(name)}/>" for name in clean]
    return (
        "<View>\n"
        f'  <Image name="{IMAGE_FIELD}" value="${IMAGE_FIELD}" zoom="true"/>\n'
        f'  <RectangleLabels name="{FROM_NAME}" toName="{IMAGE_FIELD}">\n'
        + "\n".join(lines)
        + "\n  </RectangleLabels>\n</View>\n"
    )


def validate_labels(labels: list[str]) -> list[str]:
    """Strip names, refuse empty or duplicate ones (raises ConfigError)."""
    clean = [name.strip() for name in labels]
    if not clean or any(not name for name in clean):
        raise ConfigError(
            "the label list is empty or has an empty name", hint="e.g. --labels Car,Bus"
        )
    dupes = sorted({name for name in clean if clean.count(name) > 1})
    if dupes:
        raise ConfigError(f"duplicate labels: {', '.join(dupes)}", hint="give each label once")
    return clean


def parse_label_config(xml: str) -> LabelConfig:
    """Read the labels (in order) and tag names of a RectangleLabels config.

    Raises:
        LabelStudioError: the config has no RectangleLabels tag.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise LabelStudioError(f"the project's label config is not valid XML: {exc}") from None
    rect = next((el for el in root.iter() if el.tag == "RectangleLabels"), None)
    if rect is None:
        raise LabelStudioError(
            "the project's label config has no RectangleLabels tag",
            hint="create the project with `vigie labelstudio setup`",
        )
    labels = [el.attrib["value"] for el in rect.iter("Label") if "value" in el.attrib]
    to_name = rect.attrib.get("toName", IMAGE_FIELD)
    image_field = IMAGE_FIELD
    for el in root.iter("Image"):
        if el.attrib.get("name") == to_name:
            image_field = el.attrib.get("value", "$" + IMAGE_FIELD).lstrip("$")
    return LabelConfig(labels, image_field, rect.attrib.get("name", FROM_NAME), to_name)


def get_project(client: LabelStudioClient, project_id: int) -> ProjectInfo:
    """The project ``project_id`` with its parsed label config."""
    proj = client.project(project_id)
    return ProjectInfo(
        int(proj.id or project_id), str(proj.title), parse_label_config(proj.label_config or "")
    )


def _find_by_title(client: LabelStudioClient, title: str) -> int | None:
    """The id of the oldest project titled exactly ``title``, if any."""
    matches = client.projects_titled(title)
    return int(matches[0].id) if matches else None


def setup_project(
    client: LabelStudioClient,
    *,
    title: str | None = None,
    labels: list[str],
    project_id: int | None = None,
) -> ProjectInfo:
    """Create the project, or reuse the one with this id or exact title (idempotent).

    A reused project whose labels differ gets the new config (Label Studio refuses to drop a
    label that annotations use; that refusal is reported as LabelStudioError).

    Raises:
        ConfigError: neither title nor id given, or bad labels.
        LabelStudioError / AuthError: the server refused.
    """
    xml = label_config_xml(labels)
    wanted = parse_label_config(xml)
    if project_id is not None:
        found: int | None = project_id
    elif title:
        found = _find_by_title(client, title)
    else:
        raise ConfigError("give a project --title or --project id")
    if found is None:
        assert title is not None
        try:
            pid = client.create_project(title, xml)  # sent once: it may have committed
        except LabelStudioError:
            again = _find_by_title(client, title)  # the server may have committed it
            if again is None:
                raise
            pid = again
        log.info("created Label Studio project %s (%s)", pid, title)
        return ProjectInfo(pid, title, wanted, created=True)
    info = get_project(client, found)
    if info.config.labels == wanted.labels:
        return info
    client.update_label_config(info.id, xml)
    log.info("updated the labels of Label Studio project %s", info.id)
    return ProjectInfo(info.id, info.title, wanted, updated=True)
