"""Org import runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.models import OrgImport


async def add(db: AsyncSession, **values: Any) -> OrgImport:
    run = OrgImport(**values)
    db.add(run)
    await db.flush()
    await db.refresh(run)
    return run
