"""The `vertebrobot purge`, `appointment delete`, `staff remove` and `clinic stats` commands:
what the operator does about patients' data (the rest of the clinic commands: cli_clinics.py)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from bot.entrypoints.cli_clinics import CliError, find_clinic, operator
from bot.entrypoints.config import Settings, async_database_url
from flows.content import Content

if TYPE_CHECKING:
    from bot.entrypoints.cli_clinics import ClinicAction
    from bot.services.clinics import ClinicService


async def _appointment_delete(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.clinic)
    removed = await service.delete(clinic, args.id, by=operator())
    print(f"procedure {args.id} deleted: {removed.summary()} removed")
    return 0


async def _staff_remove(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.slug)
    if not await service.remove_staff(clinic.slug, args.user_id, by=operator()):
        raise CliError(f"user {args.user_id} is not staff of clinic {clinic.slug}")
    print(f"user {args.user_id} is no longer staff of {clinic.slug}: no more alerts, no staff commands")
    return 0


async def _clinic_stats(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.slug)
    counts = await service.counts(clinic)
    print(
        f"{clinic.slug}: {counts.procedures} procedures ({counts.scheduled} scheduled, {counts.cancelled} "
        f"cancelled; {counts.purged} with their patient data purged), {counts.warning_signs} warning signs "
        "reported"
    )
    return 0


PRIVACY_ACTIONS: dict[tuple[str, str], ClinicAction] = {
    ("appointment", "delete"): _appointment_delete,
    ("staff", "remove"): _staff_remove,
    ("clinic", "stats"): _clinic_stats,
}


def purge_command(settings: Settings) -> int:
    """Purge, once, the patient data every clinic keeps past its `retention_days`; print the counts."""
    from bot.db.store import Store
    from bot.services.retention import Purger

    async def work() -> int:
        store = Store(async_database_url(settings.database_url))
        try:
            await store.migrate()
            report = await Purger(store).purge()
        finally:
            await store.close()
        for slug, removed in sorted(report.items()):
            print(f"{slug}: purged {removed.summary()}")
        if not report:
            print("nothing to purge: no procedure is past its clinic's retention")
        return 0

    return asyncio.run(work())
