// A sweep worker thread (workerpool): runs the jobs the sweep hands it, one at a time.
import workerpool from "workerpool";
import { runJob } from "./sweep-job.js";

workerpool.worker({ runJob });
