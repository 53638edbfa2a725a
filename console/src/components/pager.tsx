/**
 * Previous/next over page tokens. `tokens` is the stack of tokens of the pages
 * seen so far ("" = the first); the last one is the page shown.
 */
export function Pager(props: {
  tokens: readonly string[];
  setTokens: (tokens: string[]) => void;
  next: string | undefined;
}) {
  const { tokens, setTokens, next } = props;
  return (
    <div class="pager">
      <button
        type="button"
        class="secondary"
        disabled={tokens.length < 2}
        onClick={() => setTokens(tokens.slice(0, -1))}
      >
        Previous page
      </button>
      <button
        type="button"
        class="secondary"
        disabled={!next}
        onClick={() => next && setTokens([...tokens, next])}
      >
        Next page
      </button>
    </div>
  );
}
