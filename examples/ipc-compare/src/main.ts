// `npm start` in this folder (or the root tour) runs the example.
import { runExample } from "./index.js";

runExample((line) => console.log(line));
