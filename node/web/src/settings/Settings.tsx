// Placeholder: replaced by the page itself.
export function Settings() {
  return (
    <main class="page">
      <h1>Settings</h1>
    </main>
  );
}
