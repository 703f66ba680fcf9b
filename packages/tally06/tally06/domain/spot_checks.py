"""Spot checks (kiểm tra xác suất): who may see a check, how a sample is drawn, and how the
outcomes verifiers record become a verdict. Pure; the rule's math is in ``domain.lqas``.

A draw is reproducible by anyone allowed, in any language: the population is a frozen, sorted
list of claim sequence numbers (its SHA-256 is stored beside it), and the sample is the claims
with the smallest HMAC-SHA256(seed, seq) — no random generator whose algorithm could change
between versions. Claims beyond the first ``n`` are reserves, taken in the same order when a
sampled citizen cannot be reached, as LQAS surveys replace a household nobody answers at.

The verdict is a fold over the outcomes recorded so far, so any order of arrival and any replay
give the same verdict. It is decided as soon as the rule settles it (more than ``d`` failures, or
so few left that the unit can no longer fail): verifiers may stop early, and what they record
afterwards still counts for the estimate and the officers' flags but cannot change the verdict.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import heapq
import hmac
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tally06.domain.accounts import Role
from tally06.domain.lqas import DecisionRule, Estimate, Thresholds, estimate

# Until a province sets its own: a unit whose claims are 95 % real fails at most 5 % of the time,
# one with 30 % of its claims not real passes at most 10 % of the time (16 checked, pass with <= 2
# failures; docs/spot-checks.md).
DEFAULT_THRESHOLDS = Thresholds(upper=0.95, lower=0.70, alpha=0.05, beta=0.10)

# Tries that reach nobody before a sampled citizen counts as unreachable (and a reserve is taken).
UNREACHABLE_AFTER_TRIES = 3


class Population(enum.StrEnum):
    """What a sample is drawn from: the unit's credited activation claims in the period, or only
    those the registry judged unconfirmed (the check of what the registry could not confirm)."""

    CREDITED = "credited"
    UNCONFIRMED = "unconfirmed"


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    NOT_ACTIVATED = "not_activated"
    NOT_OWN_ACCOUNT = "not_own_account"  # someone else's account or phone
    NOT_GUIDED = "not_guided"  # the officer named did not guide it
    NO_ANSWER = "no_answer"  # one try that reached nobody; enough of them make it unreachable
    UNREACHABLE = "unreachable"

    @property
    def final(self) -> bool:
        return self is not Outcome.NO_ANSWER

    @property
    def failure(self) -> bool:
        return self in FAILURES


FAILURES = frozenset({Outcome.NOT_ACTIVATED, Outcome.NOT_OWN_ACCOUNT, Outcome.NOT_GUIDED})

# What a verifier records. "Unreachable" is not among them: it is what enough tries that reach
# nobody amount to, so a hard item cannot be skipped for an easier reserve (which would bias the
# sample towards the citizens who answer, and fake claims often carry numbers nobody answers).
RECORDABLE = tuple(o for o in Outcome if o is not Outcome.UNREACHABLE)


# The words people read for each outcome: the one home (board, verification page, Excel, CLI).
OUTCOME_TEXTS: dict[Outcome, tuple[str, str]] = {
    Outcome.CONFIRMED: ("Xác nhận đúng", "Confirmed"),
    Outcome.NOT_ACTIVATED: ("Chưa kích hoạt", "Not activated"),
    Outcome.NOT_OWN_ACCOUNT: ("Tài khoản/điện thoại của người khác", "Someone else's account or phone"),
    Outcome.NOT_GUIDED: ("Cán bộ được ghi không hướng dẫn", "The officer named did not guide it"),
    Outcome.NO_ANSWER: ("Không liên lạc được (lần thử)", "No answer (one try)"),
    Outcome.UNREACHABLE: ("Không liên lạc được", "Unreachable"),
}


class CheckStatus(enum.StrEnum):
    OPEN = "open"
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # too many unreachable: the reserves ran out


STATUS_TEXTS: dict[CheckStatus, tuple[str, str]] = {
    CheckStatus.OPEN: ("Đang kiểm tra", "In progress"),
    CheckStatus.PASSED: ("Đạt", "Passed"),
    CheckStatus.FAILED: ("Không đạt kiểm tra xác suất", "Failed spot check"),
    CheckStatus.INCONCLUSIVE: ("Không đủ kết quả", "Inconclusive"),
}


class AuditAction(enum.StrEnum):
    """The audit log's names for what is done with spot checks (CLI and API write the same)."""

    DRAW = "spotcheck.draw"
    THRESHOLDS = "spotcheck.thresholds"
    VIEW = "spotcheck.view"  # the sampled citizens' names and phones shown in clear
    VIEW_REFUSED = "spotcheck.view.refused"
    EXPORT = "export.spotcheck"
    EXPORT_REFUSED = "export.spotcheck.refused"

    @property
    def refused(self) -> AuditAction:
        """The entry of the same request refused (a clear read by a role that may not)."""
        return AuditAction(f"{self.value}.refused")


# Who runs spot checks: the district and provincial police, the roles that may see citizens'
# data in clear. They see a check of a unit strictly below their own; the province operator also
# checks the province as a whole. Nobody attached to the checked unit or below it sees an open
# check: a unit that knew a draw was coming could prepare its answers.
VERIFIER_ROLES = frozenset({Role.DISTRICT_FOCAL, Role.PROVINCE_OPERATOR})


def sees_open_check(role: Role, user_unit: str, checked_chain: Sequence[str]) -> bool:
    """Whether a user may see an undecided check of the unit whose chain (the unit, then each
    unit above it up to the root) is ``checked_chain``: before its verdict, verifiers above only."""
    if role not in VERIFIER_ROLES or user_unit not in checked_chain:
        return False
    return user_unit != checked_chain[0] or role is Role.PROVINCE_OPERATOR


def sees_decided_check(user_unit: str, checked_chain: Sequence[str]) -> bool:
    """After its verdict a check's result (never its citizens) is read like any figure of the unit."""
    return user_unit in checked_chain


def population_digest(seqs: Iterable[int]) -> str:
    """SHA-256 of the frozen list, one decimal sequence number per line, ascending."""
    return hashlib.sha256("\n".join(str(s) for s in sorted(seqs)).encode()).hexdigest()


def _keys(seed: bytes, seqs: Iterable[int]) -> Iterator[tuple[bytes, int]]:
    # One keyed state, copied per claim: the key schedule is not redone a million times.
    keyed = hmac.new(seed, digestmod=hashlib.sha256)
    for s in seqs:
        h = keyed.copy()
        h.update(b"%d" % s)
        yield h.digest(), s


def draw_order(seed: bytes, seqs: Iterable[int]) -> list[int]:
    """Every claim of the population in the order the draw takes them."""
    return [s for _, s in sorted(_keys(seed, seqs))]


def reserve_count(n: int) -> int:
    """Reserves drawn beyond the sample: half of it, at least 3 (unreachable citizens are common)."""
    return max(3, math.ceil(n / 2))


def draw(seed: bytes, seqs: Sequence[int], rule: DecisionRule) -> list[int]:
    """The sample (first ``n``) followed by its reserves; the whole population when it is smaller."""
    # The first few of the order without sorting a province's million claims.
    return [s for _, s in heapq.nsmallest(rule.n + reserve_count(rule.n), _keys(seed, seqs))]


@dataclass(frozen=True)
class Recorded:
    """One outcome a verifier recorded for the item at ``rank`` (0 = first drawn)."""

    rank: int
    outcome: Outcome
    at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    status: CheckStatus
    successes: int  # confirmed among the items the verdict counts
    failures: int
    checked: int  # items of the sample (reserves taken in) with a final outcome other than unreachable
    estimate: Estimate  # over every item with a confirmed or failing outcome, early stops included
    decided_at: dt.datetime | None
    # The ranks that make up the sample now: the first n, with a reserve in place of each
    # unreachable citizen, in draw order.
    active: tuple[int, ...]


def _finals(recorded: Iterable[Recorded], *, tries: int) -> dict[int, tuple[dt.datetime, Outcome]]:
    """When each item got its final outcome, and which: the first final one recorded, or
    unreachable at the ``tries``-th answer of nobody. Items still being tried are absent."""
    final: dict[int, tuple[dt.datetime, Outcome]] = {}
    no_answers: dict[int, list[dt.datetime]] = {}
    # Ties broken by every field, so that the order the records come in never matters.
    for r in sorted(recorded, key=lambda r: (r.at, r.rank, r.outcome.value)):
        if r.outcome is Outcome.NO_ANSWER:
            no_answers.setdefault(r.rank, []).append(r.at)
        elif r.rank not in final:
            final[r.rank] = (r.at, r.outcome)
    for rank, ats in no_answers.items():
        if len(ats) >= tries and (rank not in final or ats[tries - 1] < final[rank][0]):
            final[rank] = (ats[tries - 1], Outcome.UNREACHABLE)
    return final


def item_outcomes(recorded: Iterable[Recorded], *, tries: int) -> dict[int, Outcome]:
    """The final outcome of each item that has one."""
    return {rank: outcome for rank, (_, outcome) in _finals(recorded, tries=tries).items()}


def effective_rule(rule: DecisionRule, drawn: int) -> DecisionRule:
    """The rule for a unit with fewer claims than the sample: every claim is checked, and the
    share of failures allowed stays that of the rule (d/n)."""
    if drawn >= rule.n:
        return rule
    return DecisionRule(drawn, rule.d * drawn // rule.n) if drawn else rule


_Finals = dict[int, tuple[dt.datetime, Outcome]]


@dataclass(frozen=True)
class _State:
    status: CheckStatus
    successes: int
    failures: int
    active: tuple[int, ...]


def _state(rule: DecisionRule, drawn: int, finals: _Finals) -> _State:
    """Where the check stands given these final outcomes (``rule`` already the effective one)."""
    active: list[int] = []
    for rank in range(drawn):
        if len(active) == rule.n:
            break
        if rank not in finals or finals[rank][1] is not Outcome.UNREACHABLE:
            active.append(rank)
    outcomes = [finals[r][1] for r in active if r in finals]
    successes = sum(o is Outcome.CONFIRMED for o in outcomes)
    failures = sum(o.failure for o in outcomes)
    # Fewer active items than the sample means every other drawn item is unreachable: no reserve
    # is left, and the items still being tried can only add to these counts or drop out.
    pending = len(active) - len(outcomes)
    if failures > rule.d:
        status = CheckStatus.FAILED
    elif successes >= rule.n - rule.d:
        status = CheckStatus.PASSED
    elif len(active) < rule.n and successes + pending < rule.n - rule.d and failures + pending <= rule.d:
        status = CheckStatus.INCONCLUSIVE
    else:
        status = CheckStatus.OPEN
    return _State(status, successes, failures, tuple(active))


def verdict(rule: DecisionRule, drawn: int, recorded: Sequence[Recorded], *, tries: int = UNREACHABLE_AFTER_TRIES,
            confidence: float = 0.95) -> Verdict:
    """The check's verdict from everything recorded for its ``drawn`` items (sample + reserves).

    Passed or failed as soon as the outcomes in make the rest of the sample irrelevant (curtailed
    sampling: the verdict is the one the whole sample would give, so the risks are the rule's).
    Inconclusive when the reserves are spent and neither verdict can be reached any more: an
    item missing for good counts against passing (the unit passes only if it would pass were
    every missing item a failure) and for nothing towards failing. ``decided_at`` is the first
    moment, replaying the outcomes in time order, at which the check stood decided."""
    if tries < 1:
        raise ValueError("tries must be at least 1")
    finals = {rank: f for rank, f in _finals(recorded, tries=tries).items() if 0 <= rank < drawn}
    rule = effective_rule(rule, drawn)
    now = _state(rule, drawn, finals)
    status, decided_at = now.status, None
    if status is not CheckStatus.OPEN:
        for at in sorted({at for at, _ in finals.values()}):
            then = _state(rule, drawn, {r: f for r, f in finals.items() if f[0] <= at})
            if then.status is not CheckStatus.OPEN:
                status, decided_at = then.status, at
                break
    judged = [o for _, o in finals.values() if o is Outcome.CONFIRMED or o.failure]
    est = estimate(sum(o is Outcome.CONFIRMED for o in judged), len(judged), confidence)
    return Verdict(status, now.successes, now.failures, now.successes + now.failures, est, decided_at, now.active)
