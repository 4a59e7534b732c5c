// Placeholder: replaced by the page itself.
export function Inbox(props: { tab: "inbox" | "requests" }) {
  void props;
  return (
    <main class="page">
      <h1>Inbox</h1>
    </main>
  );
}
