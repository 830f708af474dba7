import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from mining.clustering import PatternClusterer
from mining.granularity import cohesion, mean_cohesion, refine_to_threshold

from .conftest import sphere_blobs


def test_cohesion_is_the_mean_pairwise_similarity():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(7, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.array([0, 0, 0, 1, 1, -1, 2])
    values = cohesion(x, labels, 3)
    pairs = [x[i] @ x[j] for i in range(3) for j in range(3) if i < j]
    assert values[0] == pytest.approx(np.mean(pairs))
    assert values[1] == pytest.approx(x[3] @ x[4])
    assert np.isnan(values[2])  # one member: no pair
    assert mean_cohesion(x, labels, 3) == pytest.approx((3 * values[0] + 2 * values[1]) / 5)


def test_refinement_cuts_the_loosest_gain_first_and_stops_at_the_threshold():
    # three tight problems in two coarse groups: the group holding two problems is cut, the
    # other is left whole, and nothing is cut further once the mean reaches the threshold
    rng = np.random.RandomState(0)
    centres = np.eye(8)[:3]
    x = np.repeat(centres, 30, axis=0) + 0.05 * rng.normal(size=(90, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    coarse = np.array([0] * 60 + [1] * 30)
    fine = refine_to_threshold(x, x, coarse, 0.8, min_size=5, rng=np.random.RandomState(0))
    assert len(set(fine.tolist())) == 3
    assert adjusted_rand_score(np.repeat([0, 1, 2], 30), fine) == 1.0
    assert len(set(fine[60:].tolist())) == 1  # the tight group is not cut
    # protected (curated) groups are never cut
    kept = refine_to_threshold(x, x, coarse, 0.8, min_size=5, rng=np.random.RandomState(0), protected=1)
    assert len(set(kept[:60].tolist())) == 1


def test_problem_granularity_finds_each_problem_of_a_topic():
    # 4 topics, each made of 3 tight problems: members of one problem have cosine ~0.94, of one
    # topic ~0.5; a threshold between the two finds the problems
    rng = np.random.RandomState(0)
    topics = rng.normal(size=(4, 48))
    points, truth = [], []
    for t, centre in enumerate(topics):
        for p in range(3):
            problem = centre + 0.9 * rng.normal(size=48)
            for _ in range(40):
                points.append(problem + 0.35 * rng.normal(size=48))
                truth.append(3 * t + p)
    x = np.asarray(points)
    topics = PatternClusterer(granularity="topic", random_state=0).fit(x).labels_
    problems = PatternClusterer(granularity="problem", same_problem_similarity=0.92, random_state=0).fit(x, groups=topics)
    assert 12 <= problems.n_clusters_ <= 14
    # every problem lies within one topic
    inside = [len(set(topics[problems.labels_ == g].tolist()) - {-1}) for g in range(problems.n_clusters_)]
    assert max(inside) == 1
    assert adjusted_rand_score(truth, problems.labels_) > 0.9
    assert np.nanmin(problems.cohesion_) > 0.4  # no catch-all published


def test_catchall_groups_become_noise():
    x, _ = sphere_blobs(n_groups=4)
    rng = np.random.RandomState(1)
    scattered = rng.normal(size=(60, x.shape[1]))  # unrelated texts: no shared direction
    est = PatternClusterer(granularity="problem", catchall_similarity=0.3, random_state=0).fit(np.vstack([x, scattered]))
    assert np.all(est.cohesion_[~np.isnan(est.cohesion_)] >= 0.3)
    assert np.mean(est.labels_[len(x):] == -1) > 0.8


@pytest.mark.parametrize("k", [3, 9, 25])
def test_forced_k_gives_exactly_k_groups_and_assigns_everything(k):
    x, _ = sphere_blobs(n_groups=6)
    est = PatternClusterer(granularity="problem", n_clusters=k).fit(x)
    assert est.n_clusters_ == k and len(set(est.labels_.tolist())) == k and (est.labels_ >= 0).all()
    assert (est.predict(x[:20]) >= 0).all()


def test_granularity_is_checked():
    with pytest.raises(ValueError, match="granularity"):
        PatternClusterer(granularity="fine").fit(np.eye(3))


def test_names_are_short_phrases_the_titles_share():
    from mining.representation import pattern_name

    titles = ["Bridge connector fails with handshake_failure after TLS 1.1 was disabled",
              "handshake_failure on the Bridge connector since we disabled TLS 1.1",
              "Bridge connector: handshake_failure after disabling TLS 1.1 on the proxy",
              "After TLS 1.1 was turned off the Bridge connector fails (handshake_failure)"]
    name = pattern_name(titles, signatures=["CONN-0503"])
    assert "Bridge connector" in name and "CONN-0503" in name and len(name) <= 80
    assert all(word in " ".join(titles) + " CONN-0503 ·" for word in name.split())  # only the titles' words
    sessions = ["Sessions drop after 30 minutes", "session drops every 30 minutes", "Sessions expire after 30 minutes"]
    assert pattern_name(sessions).lower().count("session") == 1  # one word, not "Sessions session"
    long = ["x" * 30 + " " + "y" * 30 + " " + "z" * 30] * 3  # the shared phrase is longer than a name may be
    name = pattern_name(long)
    assert 0 < len(name) <= 80 and set(name.lower().split()) <= {"x" * 30, "y" * 30, "z" * 30}  # whole words only
    assert pattern_name(["didn't work", "it didn't work at all"]).lower() not in {"didn", "t", "didn t"}


def test_a_name_keeps_the_words_titles_say_between_its_shared_phrases():
    from mining.representation import pattern_name

    # "Deadlock victim" and "posting" alone read as keyword soup ("Deadlock victim posting")
    titles = ["Deadlock victim errors when posting invoices", "Deadlock victim errors when posting journals",
              "Deadlock victim on posting at month end", "Posting fails: transaction was chosen as deadlock victim",
              "Deadlock victim errors when posting in parallel"]
    assert pattern_name(titles) == "Deadlock victim errors when posting"
    # a wording only one title uses is not what the titles share; an unclosed bracket never ends a name
    once = ["Release readiness review (Q1 2026)", "KB articles due for review (Q1 2026)", "Release notes for 2026",
            "Release 2026 webinar", "Partner sessions in 2026"]
    name = pattern_name(once)
    assert name.count("(") == name.count(")"), name


def test_a_name_is_said_by_a_member_title_not_glued_from_two_places():
    from mining.representation import pattern_name

    # two shared phrases no title says together were glued into names like "Users session", "Connection nodes",
    # "Best practice users" and "Server not reachable licence" on the demo
    groups = {
        "sessions": ["Users complain about being logged out constantly after the move to HA",
                     "Logged out mid-entry, 'session not found'", "Do we need sticky sessions for Ledger on F5?",
                     "Users randomly get the login page (load balanced)",
                     "Session drops every few minutes on the load-balanced setup",
                     "Random session expiry behind NetScaler", "LDG-SES-0401 session not found",
                     "Users logged out when the second node joins"],
        "connections": ["Connection errors after scaling out to 2 nodes", "LDG-DB-0053 cannot obtain connection",
                        "Connection pool exhausted with PostgreSQL",
                        "Too many clients already — 3 app nodes on one database",
                        "Postgres max_connections reached every morning", "Pool timeout LDG-DB-0053 during peak hours",
                        "Application errors at peak: sorry, too many clients already",
                        "Connection pool exhausted after adding nodes"],
        "best practice": ["Best practice for language packs with 80 users?",
                          "Best practice for VAT return reporting with 1500 users?",
                          "Best practice for personalised start pages with 4000 users?",
                          "Best practice for read replicas for reporting with 4000 users?"],
        "licence": ["Licence server not reachable from Oracle Linux 8 app server",
                    "Licence server not reachable from Windows Server 2022 app server",
                    "Grace period warning — licence client ignores our proxy",
                    "Product went read-only: license check failing",
                    "Banner says 'licence check failed, 10 days remaining'",
                    "Ledger switched to grace period — cannot reach licence server",
                    "How to make the licence check use a proxy?"],
    }
    for key, titles in groups.items():
        name = pattern_name(titles, signatures=["SES-0401"] if key == "sessions" else None)
        phrase = name.split(" · ")[0].lower()
        assert any(phrase in title.lower() for title in titles), (key, name)
        assert len(phrase.split()) >= 2, (key, name)  # "Session" alone says less than the titles do


def test_a_theme_of_one_pattern_is_named_as_its_pattern():
    from mining.representation import Pattern, build_themes

    titles = ["401 Unauthorized on all outbound calls after credential change",
              "Outbound calls fail after the client secret was rotated",
              "AUTH-0401 on every outbound call after credential change",
              "Session drops every few minutes on the load-balanced setup",
              "Random session expiry behind NetScaler", "Session not found after the move to HA",
              "Sessions drop on the second node"]

    def pattern(pid: int, members: list[int], theme: int, name: str) -> Pattern:
        return Pattern(id=pid, size=len(members), name=name, keywords=[], signatures=[], representative=members,
                       cohesion=0.5, centroid=np.zeros(2, dtype=np.float32), members=members, theme=theme)

    patterns = [pattern(0, [0, 1, 2], 0, "Outbound calls after credential change · AUTH-0401"),
                pattern(1, [3, 4], 1, "Session drops"), pattern(2, [5, 6], 1, "Session not found")]
    themes = build_themes(patterns, titles, np.array([0, 0, 0, 1, 1, 2, 2]))
    # alone in its theme, a pattern's theme is the pattern's topic again: no second, shorter name for it
    assert [(t.name, t.patterns) for t in themes if len(t.patterns) == 1] == [
        ("Outbound calls after credential change · AUTH-0401", [0])]
    several = next(t for t in themes if len(t.patterns) == 2)
    assert "session" in several.name.lower() and len(several.name) <= 48
