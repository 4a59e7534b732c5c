// "New message": pick someone the user follows, and their chat opens.
import { href } from "../router";
import { Modal } from "./Modal";
import { PeoplePicker, useFollowed } from "./PeoplePicker";

/** The dialog; choosing a person navigates to `#/chat/<peer>` and closes it. */
export function NewMessage({ onClose }: { onClose: () => void }) {
  const { people, error } = useFollowed();
  return (
    <Modal title="New message" onClose={onClose}>
      <div onClick={(e) => (e.target as HTMLElement).closest("a") && onClose()}>
        <PeoplePicker people={people} error={error} linkTo={(peer) => href("chat", peer)} />
      </div>
    </Modal>
  );
}
