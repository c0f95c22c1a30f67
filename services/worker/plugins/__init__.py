"""ForgeSyte's built-in plugins, registered as ``forgesyte.plugins`` entry points.

* ``motion`` (:class:`~services.worker.plugins.motion.MotionPlugin`):
  background subtraction, one box per moving region.
* ``people`` (:class:`~services.worker.plugins.people.PeoplePlugin`):
  HOG pedestrians and Haar frontal faces, detectors that ship with OpenCV.
* ``scene_cuts`` (:class:`~services.worker.plugins.scene_cuts.SceneCutPlugin`):
  hard cuts from colour-histogram differences.

They are found like third-party plugins (through entry points), never
imported by name, so the worker treats them no differently. Every detection
has a ``label``; boxes are ``bbox: [x1, y1, x2, y2]`` in full-frame pixels
(x2/y2 exclusive), and a ``score`` appears where the detector gives one.
"""

from __future__ import annotations
