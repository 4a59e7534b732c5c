// Placeholder: replaced by the page itself.
export function Feed() {
  return (
    <main class="page">
      <h1>Feed</h1>
    </main>
  );
}
