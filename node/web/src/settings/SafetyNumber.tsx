// Placeholder: replaced by the page itself.
export function SafetyNumber(props: { peer: string }) {
  void props;
  return (
    <main class="page">
      <h1>Safety number</h1>
    </main>
  );
}
