"""The per-process objects created in the lifespan and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from orgtwin.api.auth.agents import SessionPhases
from orgtwin.api.auth.authenticator import Authenticator
from orgtwin.api.db import Database
from orgtwin.api.repositories.kube import Kube
from orgtwin.api.repositories.mesh_create import Writer
from orgtwin.api.services.directory import Directory
from orgtwin.api.services.inbox import InboxSignal
from orgtwin.api.services.masking import PayloadMasker
from orgtwin.api.settings import ApiSettings


@dataclass
class Runtime:
    """Everything a request may need besides its own database session."""

    settings: ApiSettings
    db: Database
    kube: Kube
    phases: SessionPhases
    auth: Authenticator
    directory: Directory
    masker: PayloadMasker
    inbox: InboxSignal
    writes: Writer
