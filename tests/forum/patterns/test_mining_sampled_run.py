"""A forum past MINING_SAMPLE_SIZE threads learns its patterns from a sample and places the other threads."""
from __future__ import annotations

from forum.models import RunStatus
from forum.services.patterns import runs as mining_runs
from mining.pipeline import PatternMiner
from mining.sampled import SampledPatternMiner
from tests.forum.patterns.test_mining_runs import CountingEmbedder, _pattern_of, _run, forum_threads  # noqa: F401


def test_a_run_past_the_sample_size_learns_from_a_sample_and_places_every_thread(app, forum_threads):  # noqa: F811
    app.config["MINING_SAMPLE_SIZE"] = 27
    assert isinstance(mining_runs.make_miner({}, n_documents=33), SampledPatternMiner)
    assert isinstance(mining_runs.make_miner({}, n_documents=27), PatternMiner)
    run = _run(CountingEmbedder())
    assert run.status is RunStatus.FINISHED and run.documents == 33 and run.patterns_found >= 3
    for topic, ids in forum_threads.items():
        owners = [_pattern_of(t) for t in ids]
        top = max(set(owners), key=owners.count)
        assert top is not None and owners.count(top) >= 8, (topic, owners)
