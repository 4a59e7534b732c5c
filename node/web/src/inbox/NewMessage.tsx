// "New message": pick someone the user follows, and their chat opens.
import { href } from "../router";
import { Dialog } from "../ui/Dialog";
import { FollowingPicker, useFollowing } from "../ui/FollowingPicker";

/** The dialog; choosing a person navigates to `#/chat/<peer>` and closes it. */
export function NewMessage({ onClose }: { onClose: () => void }) {
  const { people, error } = useFollowing();
  return (
    <Dialog label="New message" class="picker-dialog" closeOnBackdrop={false} onClose={onClose}>
      <div onClick={(e) => (e.target as HTMLElement).closest("a") && onClose()}>
        <FollowingPicker people={people} error={error} linkTo={(peer) => href("chat", peer)} />
      </div>
    </Dialog>
  );
}
