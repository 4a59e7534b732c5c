// Placeholder: replaced by the page itself.
export function Profile(props: { peer?: string }) {
  void props;
  return (
    <main class="page">
      <h1>Profile</h1>
    </main>
  );
}
