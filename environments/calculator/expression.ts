/**
 * A safe evaluator for the calculator tool: numbers, + - * /, parentheses and unary minus, with the
 * usual precedence. No identifiers, no `eval`. Throws an Error explaining what it could not read.
 */
export function evaluateExpression(text: string): number {
  const src = text.replace(/\s+/g, '').replace(/[×x]/g, '*').replace(/÷/g, '/');
  if (src === '') throw new Error('empty expression');
  let pos = 0;

  const peek = () => src[pos];
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${pos + 1} of '${text}'; use numbers, + - * / and parentheses`);
  };

  function expr(): number {
    let value = term();
    while (peek() === '+' || peek() === '-') {
      const op = src[pos++];
      const rhs = term();
      value = op === '+' ? value + rhs : value - rhs;
    }
    return value;
  }
  function term(): number {
    let value = factor();
    while (peek() === '*' || peek() === '/') {
      const op = src[pos++];
      const rhs = factor();
      if (op === '/' && rhs === 0) throw new Error('division by zero');
      value = op === '*' ? value * rhs : value / rhs;
    }
    return value;
  }
  function factor(): number {
    const c = peek();
    if (c === '-') {
      pos++;
      return -factor();
    }
    if (c === '+') {
      pos++;
      return factor();
    }
    if (c === '(') {
      pos++;
      const v = expr();
      if (peek() !== ')') fail("missing ')'");
      pos++;
      return v;
    }
    const m = /^(?:\d+(?:\.\d*)?|\.\d+)/.exec(src.slice(pos));
    if (!m) return fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
    pos += m[0].length;
    return Number(m[0]);
  }

  const value = expr();
  if (pos < src.length) fail(`unexpected '${src[pos]}'`);
  return value;
}

/** How the calculator prints results: integers as is, others rounded to 6 decimals. */
export function formatResult(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(6)));
}
