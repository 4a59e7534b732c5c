// Placeholder: replaced by the page itself.
export function GroupInfo(props: { group: string }) {
  void props;
  return (
    <main class="page">
      <h1>Group info</h1>
    </main>
  );
}
