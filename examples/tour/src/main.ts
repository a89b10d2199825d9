// `npm start` at the repository root builds the packages and runs this file.
import { runTour } from "./tour.js";

runTour((line) => console.log(line), { full: process.argv.includes("--full") });
