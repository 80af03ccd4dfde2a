"""keiko's `arithmetic` eval split as a verifiers v1 taskset: the same system prompt, question and
numeric reward on the last <answer>…</answer>. bench/eval/compare.ts exports the questions from keiko's
env to a JSONL file and passes its path in VF_ARITH_DATA."""

import json
import os
import re

import verifiers.v1 as vf

DATA = os.environ.get(
    "VF_ARITH_DATA",
    "",
)
ANSWER = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.S)


class VfArithData(vf.TaskData):
    answer: float = 0.0


class VfArithTask(vf.Task[VfArithData]):
    @vf.reward(weight=1.0)
    async def correct(self, trace: vf.Trace) -> float:
        text = vf.types.content_text(trace.last_message.content) if trace.nodes else ""
        found = ANSWER.findall(text or "")
        if not found:
            return 0.0
        try:
            return 1.0 if abs(float(found[-1]) - self.data.answer) < 1e-9 else 0.0
        except ValueError:
            return 0.0


class VfArithConfig(vf.TasksetConfig):
    num_tasks: int = 1000


class VfArithTaskset(vf.Taskset[VfArithTask, VfArithConfig]):
    def load(self) -> list[VfArithTask]:
        if not DATA:
            raise ValueError("set VF_ARITH_DATA to the JSONL file written by bench/eval/compare.ts")
        tasks = []
        with open(DATA) as f:
            for i, line in enumerate(f):
                if i >= self.config.num_tasks:
                    break
                row = json.loads(line)
                data = VfArithData(id=row["id"], prompt=row["question"], system_prompt=row["system"], answer=row["answer"])
                tasks.append(VfArithTask(data, self.config.task))
        return tasks
