// Placeholder: replaced by the page itself.
export function Chat(props: { peer?: string; group?: string }) {
  void props;
  return (
    <main class="page">
      <h1>Chat</h1>
    </main>
  );
}
