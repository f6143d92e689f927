// Test helper: reads CSV back to check what the report writes.

/** Minimal RFC 4180 parser (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ',') row.push(field), (field = ''), i++;
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else (field += c), i++;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}
