"""Label QA core: suspects, review state, manual corrections, refined files, DLC label export."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint.core import clean, qa
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core._frames import PANDAS_VERSION
from napari_gaitint.core.clean_flags import FLAG_MANUAL, FLAG_WRONG_LIMB
from napari_gaitint.core.corrections import (
    CorrectionsConflictError,
    PoseEditor,
    autosave_edits,
    has_autosave,
    legacy_refined_path,
    load_saved_corrections,
    recover_edits,
    refined_path,
    review_path,
    save_refined,
    swap_with_far_leg,
)
from napari_gaitint.core.errors import AnalysisError, GaitintWarning, InputFileError
from napari_gaitint.core.io import load_pose, read_dlc_table, save_pose
from napari_gaitint.core.pose import Pose
from napari_gaitint.dlc.labels import export_corrected_labels

synthetic = pytest.importorskip("napari_gaitint.synthetic")


def read_like_napari_deeplabcut(path) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(frame, y, x)`` and labels as napari-deeplabcut's ``read_hdf`` builds them.

    napari-deeplabcut reads the table with plain ``pd.read_hdf``, drops the scorer level,
    stacks individuals and body parts and uses the row index value as the frame number.
    """
    temp = pd.read_hdf(path)
    temp = temp.droplevel("scorer", axis=1)
    if "individuals" not in temp.columns.names:
        cols = temp.columns.to_frame()
        cols.insert(0, "individuals", "")
        temp.columns = pd.MultiIndex.from_frame(cols)
    new_stack = {"future_stack": True} if PANDAS_VERSION >= (2, 1) else {}  # keyword of pandas >= 2.1
    df = temp.stack(["individuals", "bodyparts"], **new_stack).reset_index()
    # pandas 2.0's stack sorts the body parts by name: back to the file's order
    rank = {name: i for i, name in enumerate(dict.fromkeys(temp.columns.get_level_values("bodyparts")))}
    df = df.iloc[np.lexsort((df["bodyparts"].map(rank).to_numpy(), df["level_0"].to_numpy()))]
    df = df.dropna(subset=["x", "y"])
    data = np.column_stack([df["level_0"].to_numpy(float), df["y"].to_numpy(), df["x"].to_numpy()])
    return data, df["bodyparts"].to_numpy()


def expected_points(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    frames = np.repeat(pose.frames, len(pose.bodyparts)).astype(float)
    xy = pose.xy.reshape(-1, 2)
    labels = np.tile(np.array(pose.bodyparts, dtype=object), pose.n_frames)
    ok = np.isfinite(xy).all(1)
    return np.column_stack([frames[ok], xy[ok, 1], xy[ok, 0]]), labels[ok]


@pytest.fixture(scope="module")
def trial():
    return synthetic.generate_trial(3)


@pytest.fixture(scope="module")
def swapped():
    """The first synthetic trial (by seed) with >= 2 injected wrong-limb labels in one view.

    Returns ``(trial, view, other_view)``; chosen from the ground truth, not hard-coded.
    """
    for seed in range(1, 30):
        tr = synthetic.generate_trial(seed)
        for view, other in (("C1", "C3"), ("C3", "C1")):
            if len(tr.views[view].wrong_limb) >= 2:
                return tr, view, other
    pytest.skip("no synthetic trial with wrong-limb labels")


def test_jump_residual_known_answer():
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [100.0, 0.0], [40.0, 0.0], [np.nan, np.nan]])
    r = qa.jump_residual_px(xy)
    # ends: distance to the one neighbour; smooth motion: 0; the spike at row 3: |100 - 30|
    assert_allclose(r[:5], [10.0, 0.0, 35.0, 70.0, 60.0])
    assert np.isnan(r[5])


def test_suspects_rank_wrong_limb_first(swapped):
    trial, v, o = swapped
    view, other = trial.views[v], trial.views[o]
    res = clean.clean_pose(view.pose, other=other.pose)
    res_o = clean.clean_pose(other.pose, other=view.pose)
    mapped, align = qa.map_other_view(view.pose, other.pose)
    assert align["ax"] < 0  # opposite cameras: mirrored
    s = qa.find_suspects(view.pose, view=v, flags=res.flags, other_mapped=mapped, other_flags=res_o.flags)
    assert tuple(s.columns) == qa.SUSPECT_COLUMNS
    assert (np.diff(s["score"].to_numpy()) <= 0).all()
    # every entry the cleaning core flagged wrong-limb is a suspect of kind wrong_limb ...
    flagged = {(int(r.frame), r.bodypart) for r in clean.flags_table(res).itertuples() if "wrong_limb" in r.names}
    wl = s[s["kinds"].str.contains("wrong_limb")]
    assert {(int(f), b) for f, b in zip(wl["frame"], wl["bodypart"], strict=True)} == flagged
    # ... and the injected wrong-limb labels the core found come before every likelihood-only suspect
    truth = {(int(f), b) for f, b in view.wrong_limb[["frame", "bodypart"]].itertuples(index=False)}
    found = truth & flagged
    assert found
    rank = {(int(f), b): i for i, (f, b) in enumerate(zip(s["frame"], s["bodypart"], strict=True))}
    lik_only = [i for i, k in enumerate(s["kinds"]) if k == "low_likelihood"]
    assert all(rank[t] < min(lik_only, default=len(s)) for t in found)
    # suspect frames: one row per frame, same ranking
    fr = qa.suspect_frames(s)
    assert fr[["view", "frame"]].duplicated().sum() == 0
    assert len(fr) == s["frame"].nunique()
    assert fr.iloc[0]["frame"] == s.iloc[0]["frame"]


def test_suspects_do_not_depend_on_the_image_scale(swapped):
    """The same subject filmed twice as large gives the same suspects: the jump and
    other-view margins follow the leg length measured in the view (fixed pixel margins would
    list twice the jitter at 1920 x 1080 and miss jumps at 480 x 270)."""
    trial, v, o = swapped
    view, other = trial.views[v], trial.views[o]

    def scaled(pose, k):
        out = pose.copy()
        out.values[..., :2] *= k
        return out

    def suspects(k):
        a, b = scaled(view.pose, k), scaled(other.pose, k)
        res = clean.clean_pose(a, other=b)
        s = qa.find_suspects(a, view=v, flags=res.flags, other_mapped=qa.map_other_view(a, b)[0],
                             other_flags=clean.clean_pose(b, other=a).flags)
        return s[["frame", "bodypart", "kinds"]].sort_values(["frame", "bodypart"]).reset_index(drop=True)

    ref = suspects(1.0)
    assert ref["kinds"].str.contains("jump").any()
    for k in (0.5, 2.0):
        pd.testing.assert_frame_equal(suspects(k), ref)
    jump, other_px = qa.QAConfig().margins_px(view.pose)
    assert 20 < jump < 30 and 16 < other_px < 24  # ~25 / ~20 px at 960 x 540
    assert qa.QAConfig(jump_margin_px=40.0).margins_px(view.pose)[0] == 40.0


def test_other_view_blames_the_right_camera(swapped):
    """A wrong-limb label sits on the other camera's (mapped) near leg: flagged in its own view,
    not in the other view, whose label it coincides with."""
    trial, v, o = swapped
    a, b = trial.views[v], trial.views[o]
    truth = {(int(f), bp) for f, bp in a.wrong_limb[["frame", "bodypart"]].itertuples(index=False)}
    ra = clean.clean_pose(a.pose, other=b.pose)
    rb = clean.clean_pose(b.pose, other=a.pose)
    sa = qa.find_suspects(a.pose, view=v, other_mapped=qa.map_other_view(a.pose, b.pose)[0], other_flags=rb.flags)
    ova = {(int(f), bp) for f, bp, k in zip(sa["frame"], sa["bodypart"], sa["kinds"], strict=True) if "other_view" in k}
    # a precise hint, not a detector (precision ~0.99, recall ~0.4 over 24 synthetic trials)
    assert truth & ova
    assert len(ova - truth - {(f, bp) for f, bp in ova if bp in qa.TRUNK}) <= 1
    sb = qa.find_suspects(b.pose, view=o, other_mapped=qa.map_other_view(b.pose, a.pose)[0], other_flags=ra.flags)
    ovb = {(int(f), bp) for f, bp, k in zip(sb["frame"], sb["bodypart"], sb["kinds"], strict=True) if "other_view" in k}
    flagged_a = {(int(r.frame), r.bodypart) for r in clean.flags_table(ra).itertuples() if "wrong_limb" in r.names}
    assert not (ovb & truth & flagged_a)


def test_far_leg_estimate_matches_truth(trial):
    c1, c3 = trial.views["C1"], trial.views["C3"]
    far = qa.far_leg_estimate(c1.pose, c3.pose)
    assert far.bodyparts == ("knee", "ankle", "heel", "toe")
    err = np.linalg.norm(far.xy - c1.true_far_pose.select(far.bodyparts).xy, axis=-1)
    # measured ~13-15 px median on 960x540 (mapping two cameras by a per-axis linear fit)
    assert np.nanmedian(err) < 25.0


def test_review_state_navigation_and_counter():
    frames = pd.DataFrame({"view": ["C1", "C3", "C1"], "frame": [40, 12, 7], "score": [3.0, 2.0, 1.0]})
    st = qa.ReviewState(frames)
    assert st.counter_text() == "0 of 3 reviewed"
    assert st.previous() is None and st.position == -1
    assert st.next() == ("C1", 40)
    st.accept("C1", 40)
    assert st.next() == ("C3", 12)
    st.accept("C1", 7)
    assert st.counter_text() == "2 of 3 reviewed"
    assert st.next(unreviewed_only=True) is None and st.position == 1
    assert st.previous() == ("C1", 40)
    assert st.next(unreviewed_only=True) == ("C3", 12)
    st.accept("C1", 99)  # not a suspect: does not count
    assert st.k == 2
    st2 = qa.ReviewState(frames)
    st2.restore(st.to_dict())
    assert st2.reviewed == st.reviewed and st2.position == st.position


def _pose(n=6) -> Pose:
    v = np.zeros((n, 4, 3))
    v[..., 0] = np.arange(n)[:, None] * 10.0 + np.arange(4)[None, :]
    v[..., 1] = 100.0 + np.arange(4)[None, :]
    v[..., 2] = 0.9
    return Pose(v, ("hip", "knee", "ankle", "toe"), fps=25.0, index=pd.RangeIndex(n))


def test_swap_with_far_leg():
    near = _pose()
    far = near.select(["knee", "ankle", "toe"])
    far.values[..., 0] += 50.0  # far leg 50 px away: a different place
    n2, f2 = swap_with_far_leg(near, far, frame=2, bodyparts=["knee"])
    assert_array_equal(n2.bodypart("knee")[2, :2], far.bodypart("knee")[2, :2])
    assert n2.bodypart("knee")[2, 2] == 1.0
    assert_array_equal(f2.bodypart("knee")[2], near.bodypart("knee")[2])
    assert_array_equal(near.values, _pose().values)  # inputs untouched
    # estimate where the label already is: the label was on the far leg, near becomes missing
    close = near.select(["knee", "ankle", "toe"])
    close.values[..., 0] += 3.0
    n3, f3 = swap_with_far_leg(near, close, frame=4, bodyparts=["ankle"], margin_px=15.0)
    assert np.isnan(n3.bodypart("ankle")[4]).all()
    assert_array_equal(f3.bodypart("ankle")[4], near.bodypart("ankle")[4])
    with pytest.raises(AnalysisError, match="frame 99"):
        swap_with_far_leg(near, far, frame=99, bodyparts=["knee"])


def test_editor_edits_undo_flags():
    pose = _pose()
    ed = PoseEditor(pose, view="C1")
    ed.move(1, "knee", x=12.5, y=33.25)
    ed.delete(3, "toe")
    ed.mark_far_leg(5, "ankle")  # the last frame: no neighbours after it, the label goes missing
    assert_array_equal(ed.pose.bodypart("knee")[1], [12.5, 33.25, 1.0])
    assert np.isnan(ed.pose.bodypart("toe")[3]).all()
    assert np.isnan(ed.pose.bodypart("ankle")[5]).all()
    assert_array_equal(ed.far.bodypart("ankle")[5], pose.bodypart("ankle")[5])  # kept on the far chain
    assert_array_equal(ed.corrected_frames(), [1, 3, 5])
    fl = ed.flags()
    assert fl[1, 1] == FLAG_MANUAL and fl[0, 1] == 0 and (fl & FLAG_MANUAL).sum() == 3 * FLAG_MANUAL
    tab = ed.corrections_table()
    assert list(tab["frame"]) == [1, 3, 5] and list(tab["bodypart"]) == ["knee", "toe", "ankle"]
    assert ed.dirty
    # undo in reverse order restores exactly, and says where each edit was
    op = ed.undo()
    assert (op["op"], op["frame"]) == ("far_leg", 5)
    assert np.isnan(ed.far.values).all()
    assert ed.undo()["op"] == "delete"
    assert ed.undo()["op"] == "move"
    assert ed.undo() is None
    assert_array_equal(ed.pose.values, pose.values)
    assert not ed.manual.any()
    assert_array_equal(ed.original.values, pose.values)
    # redo replays them in order; a new edit clears what is left to redo
    assert ed.redo()["op"] == "move" and ed.redo()["op"] == "delete"
    assert_array_equal(ed.pose.bodypart("knee")[1], [12.5, 33.25, 1.0]) and ed.can_redo
    ed.move(2, "hip", x=0.0, y=0.0)
    assert not ed.can_redo and ed.redo() is None


def test_batch_is_one_undo_and_replays():
    """A drag of several selected points is one action: one Ctrl+Z takes all of it back."""
    pose = _pose()
    ed = PoseEditor(pose, view="C1")
    ed.batch([{"op": "move", "frame": 2, "bodypart": b, "x": 1.0, "y": 2.0} for b in ("knee", "ankle", "toe")])
    assert ed.manual[2, 1:].all() and len(ed.ops) == 1 and ed.ops[0]["op"] == "batch"
    assert ed.undo()["frame"] == 2
    assert_array_equal(ed.pose.values, pose.values) and not ed.manual.any() and not ed.can_undo
    # the edit log replays to the same state (autosave recovery)
    ed.redo()
    ed2 = PoseEditor(pose, view="C1")
    ed2.replay(ed.ops)
    assert_array_equal(ed2.pose.values, ed.pose.values)
    assert_array_equal(ed2.manual, ed.manual)


def test_far_leg_key_puts_the_label_on_the_near_leg():
    """W on labels lying on the far leg: the near point comes back from its own trusted neighbours
    (the run of wrong frames, flagged by the cleaning core or lying on the far-leg estimate, left out)."""
    n = 60
    t = np.arange(n, dtype=float)
    near = np.column_stack([200 + 6 * t + 25 * np.sin(t / 4), 400 - 30 * np.sin(t / 5) ** 2])
    far = near + [60.0, 5.0]
    v = np.zeros((n, 1, 3))
    v[:, 0, :2], v[:, 0, 2] = near, 0.95
    wrong = np.array([30, 31, 32])
    v[wrong, 0, :2] = far[wrong] + [1.5, -1.0]  # the labels sit on the far leg
    pose = Pose(v, ("ankle",), fps=25.0)
    far_pose = Pose(np.column_stack([far, np.full(n, 0.9)])[:, None, :], ("ankle",))
    flags = np.zeros((n, 1), np.int64)
    flags[31, 0] = FLAG_WRONG_LIMB  # the cleaning core saw one of the three
    ed = PoseEditor(pose, far=far_pose, flags=flags, margin_px=15.0)
    assert not ed.trusted("ankle")[wrong].any() and ed.trusted("ankle")[[29, 33]].all()
    for f in wrong:
        assert ed.mark_far_leg(int(f), "ankle") == "neighbours"
        assert np.linalg.norm(ed.pose.xy[f, 0] - near[f]) < 1.0  # a smooth track: the spline is within 1 px
        assert_array_equal(ed.far.xy[f, 0], v[f, 0, :2])  # the label went to the far leg
    # a run of doubtful frames longer than the gap the estimate bridges: left to place by hand
    v2 = v.copy()
    v2[10:22, 0, :2] = far[10:22]
    ed2 = PoseEditor(Pose(v2, ("ankle",)), far=far_pose, margin_px=15.0)
    assert ed2.mark_far_leg(15, "ankle") == "missing" and np.isnan(ed2.pose.values[15, 0]).all()


def _source(tmp_path, trial, view="C1"):
    path = tmp_path / f"T01_{view}DLC_resnet50_gaitShuffle1_1000.h5"
    save_pose(trial.views[view].pose, path)
    return path


def test_save_refined_reopens_exactly(tmp_path, trial):
    src = _source(tmp_path, trial)
    sha = file_sha256(src)
    pose = load_pose(src)
    ed = PoseEditor(pose, view="C1")
    ed.move(10, "ankle", x=321.125, y=400.5)
    ed.delete(11, "toe")
    ed.delete(0, "neck")
    paths = save_refined(ed)
    # refined/<source name>: DeepLabCut's name, in a folder of its own
    assert [p.relative_to(src.parent).as_posix() for p in paths] == [
        f"refined/{src.stem}.h5", f"refined/{src.stem}.csv", f"refined/{src.stem}_corrections.csv"]
    assert file_sha256(src) == sha  # source never modified
    assert not ed.dirty
    for p in paths[:2]:
        back = load_pose(p)
        assert back.bodyparts == pose.bodyparts and back.scorer == pose.scorer
        assert_array_equal(back.frames, pose.frames)
        assert_array_equal(back.values, ed.pose.values)  # exact, NaN where deleted
    # plain pd.read_hdf, as napari-deeplabcut reads it: same frames, same points
    data, labels = read_like_napari_deeplabcut(paths[0])
    exp_data, exp_labels = expected_points(ed.pose)
    assert_array_equal(data, exp_data)
    assert_array_equal(labels, exp_labels)
    raw = pd.read_hdf(paths[0])
    assert raw.index.equals(pd.read_hdf(src).index)
    assert np.isnan(raw.iloc[11][(pose.scorer, "toe", "x")])
    corr = pd.read_csv(paths[2])
    assert list(corr["frame"]) == [0, 10, 11]
    # a second save replaces the refined files; the source is still untouched
    ed.move(12, "knee", x=1.0, y=2.0)
    save_refined(ed)
    assert load_pose(paths[0]).bodypart("knee")[12, 0] == 1.0
    assert file_sha256(src) == sha
    # refusing to write onto the source
    with pytest.raises(InputFileError, match="never overwritten"):
        save_refined(ed, path=src)


def test_resume_and_merge_never_lose_a_correction(tmp_path, trial):
    """Save, reopen, continue; two sessions saving the same file: every correction and tick survives."""
    src = _source(tmp_path, trial)
    frames = qa.suspect_frames(qa.find_suspects(load_pose(src), view="C1"))

    def session():
        pose = load_pose(src)
        ed, review = PoseEditor(pose, view="C1"), qa.ReviewState(frames)
        saved = load_saved_corrections(pose)
        if saved is not None:
            ed.resume(saved)
            review.reviewed |= saved.reviewed
            review.mark_saved()
        return ed, review

    assert load_saved_corrections(load_pose(src)) is None  # nothing saved yet
    a, ra = session()
    a.move(10, "ankle", x=300.5, y=410.25)
    ra.accept("C1", 10)
    assert ra.dirty
    out = save_refined(a, review=ra)
    assert review_path(src) in out and not a.dirty
    ra.mark_saved()

    # reopen: the saved state, nothing unsaved, nothing to undo
    b, rb = session()
    assert_array_equal(b.pose.values, a.pose.values) and not b.dirty and not b.can_undo
    assert_array_equal(b.manual, a.manual) and rb.reviewed == {("C1", 10)} and not rb.dirty
    b.delete(20, "knee")
    save_refined(b, review=rb)
    back = load_saved_corrections(load_pose(src))
    assert back.manual[a.row(10), 3] and back.manual[a.row(20), 2] and back.n_corrected == 2  # the first fix kept
    assert list(pd.read_csv(refined_path(src, ext=".csv").with_name(
        refined_path(src).stem + "_corrections.csv"))["frame"]) == [10, 20]

    # two sessions open at once: each save merges what the other saved meanwhile
    c, rc = session()
    d, rd = session()
    c.move(30, "toe", x=1.0, y=2.0)
    rc.accept("C1", 30)
    save_refined(c, review=rc)
    d.move(40, "heel", x=3.0, y=4.0)
    rd.accept("C1", 40)
    save_refined(d, review=rd)
    assert d.n_merged == 1
    assert_array_equal(d.pose.bodypart("toe")[d.row(30)], [1.0, 2.0, 1.0])  # c's fix came into d
    final = load_saved_corrections(load_pose(src))
    assert final.n_corrected == 4 and final.reviewed == {("C1", 10), ("C1", 30), ("C1", 40)}

    # the same point corrected differently in both: refused with a clear choice
    e, _ = session()
    f, _ = session()
    e.move(50, "hip", x=1.0, y=1.0)
    save_refined(e)
    f.move(50, "hip", x=2.0, y=2.0)
    f.move(51, "hip", x=5.0, y=5.0)
    with pytest.raises(CorrectionsConflictError, match="hip in frame 50") as info:
        save_refined(f)
    assert info.value.conflicts == [(50, "hip")]
    assert_array_equal(load_pose(refined_path(src)).bodypart("hip")[50, :2], [1.0, 1.0])  # nothing written
    save_refined(f, on_conflict="theirs")
    hip = load_pose(refined_path(src)).bodypart("hip")
    assert_array_equal(hip[50, :2], [1.0, 1.0])
    assert_array_equal(hip[51, :2], [5.0, 5.0])  # f's other fix kept
    assert load_saved_corrections(load_pose(src)).n_corrected == 6


def test_corrections_saved_by_an_earlier_version_are_resumed(tmp_path, trial):
    """A <stem>_refined.h5 beside the source (the name before refined/) is where QA starts from;
    the next save goes to refined/ and leaves the old file as it was."""
    src = _source(tmp_path, trial)
    pose = load_pose(src)
    old = pose.copy()
    old.values[12, pose.bodypart_index("knee")] = (11.0, 22.0, 1.0)
    legacy = legacy_refined_path(src, ext=".h5")
    save_pose(old, legacy)
    sha = file_sha256(legacy)
    saved = load_saved_corrections(load_pose(src))
    assert saved.path == legacy and saved.n_corrected == 1
    ed = PoseEditor(load_pose(src), view="C1")
    ed.resume(saved)
    ed.delete(13, "toe")
    out = save_refined(ed)
    back = load_pose(refined_path(src))
    assert out[0] == refined_path(src) and file_sha256(legacy) == sha
    assert_array_equal(back.bodypart("knee")[12], [11.0, 22.0, 1.0]) and np.isnan(back.bodypart("toe")[13]).all()


def test_refined_file_of_another_source_is_refused(tmp_path, trial):
    src = _source(tmp_path, trial)
    other = trial.views["C1"].pose
    save_pose(other.replace(values=other.values[:-5], index=None), refined_path(src))
    with pytest.raises(InputFileError, match="does not match its source"):
        load_saved_corrections(load_pose(src))


def test_review_ticks_alone_are_autosaved_and_offered(tmp_path, trial):
    src = _source(tmp_path, trial)
    pose = load_pose(src)
    review = qa.ReviewState(qa.suspect_frames(qa.find_suspects(pose, view="C1")))
    review.accept(*review.key(0))
    autosave_edits(PoseEditor(pose, view="C1"), review=review)
    assert has_autosave(src)
    again = qa.ReviewState(review.frames)
    assert recover_edits(PoseEditor(pose, view="C1"), review=again) == 0
    assert again.reviewed == review.reviewed


def test_save_refined_real_dlc_files(tmp_path, dlc_fixtures_dir):
    import shutil

    for name in ("single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5",
                 "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5"):
        src = tmp_path / name.split("/")[1]
        shutil.copy(dlc_fixtures_dir / name, src)
        original = pd.read_hdf(src)
        with warnings.catch_warnings(record=True) as caught:  # multi-animal: which one is edited
            warnings.simplefilter("always", GaitintWarning)
            pose = load_pose(src)
        assert [str(w.message) for w in caught if w.category is GaitintWarning] == (
            [] if name.startswith("single") else
            [f"{src.name}: 3 individuals have data at the same time (individual1 20 frames, "
             "individual2 19 frames, individual3 18 frames); using individual1, the one with the "
             "most. Choose another with individual=... (--individual, or an individual column in "
             "trials.csv)"])
        ed = PoseEditor(pose)
        ed.move(int(pose.frames[3]), pose.bodyparts[0], x=5.5, y=6.5)
        ed.delete(int(pose.frames[4]), pose.bodyparts[1])
        out = save_refined(ed)
        refined = pd.read_hdf(out[0])
        assert refined.index.equals(original.index)
        assert refined.columns.equals(original.columns)
        # everything but the two corrected cells is bit-identical (other individuals included)
        diff = ~((refined == original) | (refined.isna() & original.isna()))
        changed = {(r, c[-2], c[-1]) for r, c in zip(*np.nonzero(diff.to_numpy()), strict=True) for c in [refined.columns[c]]}
        bp0, bp1 = pose.bodyparts[0], pose.bodyparts[1]
        assert {(3, bp0, "x"), (3, bp0, "y")} <= changed
        assert {(r, b) for r, b, _ in changed} <= {(3, bp0), (4, bp1)}
        assert_array_equal(load_pose(out[1], individual=pose.individual).values, ed.pose.values)


def test_autosave_recover_and_source_check(tmp_path, trial):
    src = _source(tmp_path, trial)
    pose = load_pose(src)
    frames = qa.suspect_frames(qa.find_suspects(pose, view="C1"))
    ed, review = PoseEditor(pose, view="C1"), qa.ReviewState(frames)
    ed.move(5, "heel", x=100.0, y=200.0)
    ed.delete(6, "heel")
    ed.undo()
    ed.mark_far_leg(7, "knee")
    review.accept("C1", int(frames.iloc[0]["frame"]))
    side = autosave_edits(ed, review=review)
    assert side.exists() and has_autosave(src)
    # "crash": a fresh editor on the same source recovers the same state
    ed2, review2 = PoseEditor(load_pose(src), view="C1"), qa.ReviewState(frames)
    assert recover_edits(ed2, review=review2) == 4
    assert_array_equal(ed2.pose.values, ed.pose.values)
    assert_array_equal(ed2.manual, ed.manual)
    assert review2.reviewed == review.reviewed
    # saving discards the autosave
    save_refined(ed2)
    assert not side.exists()
    # an autosave of a source that changed since is refused
    autosave_edits(ed, review=review)
    save_pose(trial.views["C3"].pose, src, overwrite=True)
    with pytest.raises(InputFileError, match="changed since"):
        recover_edits(PoseEditor(load_pose(src)))


def test_corrected_frames_to_dlc_labels(tmp_path, trial):
    src = _source(tmp_path, trial)
    ed = PoseEditor(load_pose(src))
    ed.move(12, "toe", x=410.0, y=500.0)
    ed.delete(30, "knee")
    # frame images exist already (e.g. from an earlier export): no video needed
    folder = tmp_path / "proj" / "labeled-data" / "T01_C1"
    folder.mkdir(parents=True)
    for name in ("img012.png", "img030.png", "img050.png"):
        (folder / name).write_bytes(b"png")
    paths = export_corrected_labels(ed, tmp_path / "proj", video_name="T01_C1", scorer="Anna")
    assert [p.name for p in paths] == ["CollectedData_Anna.h5", "CollectedData_Anna.csv"]
    for p in paths:
        table = read_dlc_table(p)
        assert list(table.index) == [("labeled-data", "T01_C1", "img012.png"),
                                     ("labeled-data", "T01_C1", "img030.png")]
        assert set(table.columns.get_level_values("coords")) == {"x", "y"}
        assert set(table.columns.get_level_values("scorer")) == {"Anna"}
        assert table.loc[("labeled-data", "T01_C1", "img012.png"), ("Anna", "toe", "x")] == 410.0
        assert np.isnan(table.loc[("labeled-data", "T01_C1", "img030.png"), ("Anna", "knee", "x")])
    # a later export merges: the earlier frames stay
    ed2 = PoseEditor(load_pose(src))
    ed2.move(50, "heel", x=300.0, y=480.0)
    paths = export_corrected_labels(ed2, tmp_path / "proj", video_name="T01_C1", scorer="Anna")
    table = read_dlc_table(paths[0])
    assert [i[2] for i in table.index] == ["img012.png", "img030.png", "img050.png"]
    assert table.loc[("labeled-data", "T01_C1", "img012.png"), ("Anna", "toe", "x")] == 410.0
    assert (folder / "CollectedData_Anna.h5.bak").is_file()
    with pytest.raises(AnalysisError, match="no corrected"):
        export_corrected_labels(PoseEditor(load_pose(src)), tmp_path / "p2", video_name="v", scorer="s")


def test_a_wrong_limb_run_goes_on_where_the_legs_come_close():
    """A label on the far leg next to a frame the cleaning flagged is listed even where the legs
    are too close (under the hip) for the other-view hint alone; not next to one, it is not."""
    n = 12
    v = np.zeros((n, 2, 3))
    v[..., 2] = 0.95
    v[:, 0, :2] = (300.0, 200.0)  # hip
    v[:, 1, :2] = (300.0, 380.0)  # the near toe, under the hip
    far = v[:, 1:, :].copy()
    far[:, 0, 0] += 6.0  # the far toe 6 px away: the legs are crossing
    for f in (4, 5, 9):  # labels on the far leg; the cleaning flagged only frame 5
        v[f, 1, :2] = far[f, 0, :2]
    pose = Pose(v, ("hip", "toe"))
    mapped = Pose(np.concatenate([v[:, :1], far], axis=1), ("hip", "toe"))
    flags = np.zeros((n, 2), np.int64)
    flags[5, 1] = FLAG_WRONG_LIMB
    s = qa.find_suspects(pose, view="C1", flags=flags, other_mapped=mapped,
                         config=qa.QAConfig(other_view_margin_px=15.0))
    toe = s[s["bodypart"] == "toe"].set_index("frame")
    assert "other_view" in toe.loc[4, "kinds"] and "wrong_limb" in toe.loc[5, "kinds"]
    assert 9 not in toe.index or "other_view" not in toe.loc[9, "kinds"]  # alone: not evidence
    assert toe.loc[4, "score"] < toe.loc[5, "score"]
