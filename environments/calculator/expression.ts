/**
 * A safe evaluator for the calculator tool: numbers (decimal, or hexadecimal as `0x1f`), + - * /
 * (also × x ÷), parentheses and unary minus, with the usual precedence. No identifiers, no `eval`.
 * Two numbers with only spaces between them are an error, not one number; so is a result too large
 * to represent. Throws an Error explaining what it could not read.
 */
export function evaluateExpression(text: string): number {
  const src = text;
  if (src.trim() === '') throw new Error('empty expression');
  let pos = 0;

  const peek = () => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
    return src[pos];
  };
  const MUL: Record<string, '*' | '/'> = { '*': '*', '×': '*', x: '*', '/': '/', '÷': '/' };
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
    while (MUL[peek() ?? ''] !== undefined) {
      const op = MUL[src[pos++]!];
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
    const hex = /^0[xX][0-9a-fA-F]+/.exec(src.slice(pos));
    const m = hex ?? /^(?:\d+(?:\.\d*)?|\.\d+)/.exec(src.slice(pos));
    if (!m) return fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
    pos += m[0].length;
    const next = peek();
    if (next !== undefined && /[\d.(]/.test(next)) fail('two numbers without an operator between them');
    return hex ? Number.parseInt(m[0].slice(2), 16) : Number(m[0]);
  }

  const value = expr();
  if (peek() !== undefined) fail(`unexpected '${src[pos]}'`);
  if (!Number.isFinite(value)) throw new Error(`result of '${text}' is too large to represent`);
  return value;
}

/** How the calculator prints results: integers as is, others rounded to 6 decimals. */
export function formatResult(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(6)));
}
