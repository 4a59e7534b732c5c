// A profile: the user's own (`#/profile`) or someone else's (`#/profile/<peer>`), with their
// posts in a grid.
import { useCallback, useEffect, useState } from "preact/hooks";

import { api, ApiError, seg } from "../api";
import { usePosts } from "../feed/posts";
import type { PostView } from "../feed/types";
import { href } from "../router";
import { EditProfile } from "../settings/EditProfile";
import { Avatar } from "../ui/Avatar";
import { Dialog } from "../ui/Dialog";
import { PeopleSearch } from "../ui/PeopleSearch";
import { rememberProfile, useProfiles, type ProfileView } from "../ui/profiles";
import { useFollows, type FollowView } from "./follows";
import { PostGrid } from "./PostGrid";
import { BlockButton, ProfileActions } from "./ProfileActions";
import "./profile.css";

/** The profile page. `peer` (an id or a handle) names someone else; without it, the user's own. */
export function Profile({ peer }: { peer?: string }) {
  const { me, profiles } = useProfiles();
  const [fetched, setFetched] = useState<ProfileView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setFetched(null);
    setError(null);
    if (!peer) return;
    api.get<ProfileView>(`profiles/${seg(peer)}`).then(
      (p) => {
        rememberProfile(p);
        setFetched(p);
      },
      (e: ApiError) => setError(e.status === 404 ? "No one is known by that name or id." : e.message),
    );
  }, [peer]);

  const id = peer ? fetched?.peer_id : me?.peer_id;
  const profile = id ? (profiles.get(id) ?? fetched) : null;
  return (
    <main class="page profile-page">
      <div class="profile-top">
        <PeopleSearch />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!profile && !error && <p class="muted">Loading…</p>}
      {profile && (
        <ProfileBody key={profile.peer_id} profile={profile} own={profile.peer_id === me?.peer_id} />
      )}
    </main>
  );
}

function ProfileBody({ profile, own }: { profile: ProfileView; own: boolean }) {
  const { me } = useProfiles();
  const follows = useFollows();
  const byAuthor = useCallback((p: PostView) => p.author === profile.peer_id, [profile.peer_id]);
  const { posts, replace } = usePosts(
    me?.peer_id,
    `profiles/${seg(profile.peer_id)}/posts?limit=1000`,
    byAuthor,
  );
  const [list, setList] = useState<"followers" | "following" | null>(null);
  const [editing, setEditing] = useState(false);
  const following = follows.following?.some((f) => f.peer_id === profile.peer_id) ?? false;
  const followsMe = follows.followers?.some((f) => f.peer_id === profile.peer_id) ?? false;

  return (
    <>
      <header class="profile-head">
        <Avatar peer={profile.peer_id} size="huge" />
        <div class="profile-info">
          <div class="profile-title">
            <h1>{profile.handle}</h1>
            {profile.business_category && <span class="business-mark">Business</span>}
            <ProfileActions
              profile={profile}
              own={own}
              following={following}
              changed={follows.reload}
              edit={() => setEditing(true)}
            />
          </div>
          <ul class="profile-counts">
            <li>
              <strong>{posts?.length ?? "–"}</strong> {posts?.length === 1 ? "post" : "posts"}
            </li>
            {own ? (
              <>
                <li>
                  <button type="button" class="link-button" onClick={() => setList("followers")}>
                    <strong>{follows.followers?.length ?? "–"}</strong> followers
                  </button>
                </li>
                <li>
                  <button type="button" class="link-button" onClick={() => setList("following")}>
                    <strong>{follows.following?.length ?? "–"}</strong> following
                  </button>
                </li>
              </>
            ) : (
              followsMe && <li class="muted">Follows you</li>
            )}
          </ul>
          <div class="profile-about">
            <p class="profile-name">{profile.display_name}</p>
            {profile.business_category && <p class="profile-category muted">{profile.business_category}</p>}
            {profile.bio && <p class="profile-bio">{profile.bio}</p>}
            {!own && (
              <p class="profile-more">
                <a href={href("safety", profile.peer_id)}>Safety number</a>
                <BlockButton peer={profile.peer_id} handle={profile.handle} />
              </p>
            )}
          </div>
        </div>
      </header>
      {(profile.faq?.length ?? 0) > 0 && <Faq faq={profile.faq!} />}
      <div class="tabs profile-tabs" role="presentation">
        <span aria-current="page">Posts</span>
      </div>
      {posts && posts.length === 0 && (
        <p class="profile-empty muted">
          {own
            ? "Share your first photo from the feed."
            : following
              ? "No posts yet."
              : `Follow ${profile.handle} to see their posts.`}
        </p>
      )}
      {posts && <PostGrid posts={posts} replace={replace} />}
      {list && (
        <FollowList
          title={list === "followers" ? "Followers" : "Following"}
          people={(list === "followers" ? follows.followers : follows.following) ?? []}
          onClose={() => setList(null)}
        />
      )}
      {editing && (
        <Dialog label="Edit profile" onClose={() => setEditing(false)}>
          <div class="dialog-body">
            <EditProfile saved={() => setEditing(false)} />
          </div>
        </Dialog>
      )}
    </>
  );
}

/** A business's frequently asked questions, each unfolding to its answer. */
function Faq({ faq }: { faq: { question: string; answer: string }[] }) {
  return (
    <section class="profile-faq" aria-labelledby="faq-title">
      <h2 id="faq-title">Frequently asked questions</h2>
      {faq.map((f, i) => (
        <details key={i}>
          <summary>{f.question}</summary>
          <p>{f.answer}</p>
        </details>
      ))}
    </section>
  );
}

/** The user's followers or the people they follow, in a dialog, each linking to their profile. */
function FollowList(props: { title: string; people: FollowView[]; onClose: () => void }) {
  const { profiles } = useProfiles();
  return (
    <Dialog label={props.title} onClose={props.onClose}>
      {props.people.length === 0 && <p class="dialog-body muted">No one yet.</p>}
      <ul class="people-list">
        {props.people.map((f) => {
          const p = profiles.get(f.peer_id);
          return (
            <li key={f.peer_id}>
              <a href={href("profile", f.peer_id)} onClick={props.onClose}>
                <Avatar peer={f.peer_id} hint={f} />
                <span>
                  <span class="person-name">{p?.handle ?? f.handle ?? f.peer_id.slice(-8)}</span>
                  {p && <span class="muted person-sub">{p.display_name}</span>}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </Dialog>
  );
}
