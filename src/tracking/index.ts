export { Tracker, TRACKERS, trackingPython, type TrackerName, type TrackerOptions } from './tracker.js';
